import { DatabaseClosedError } from '../errors.js';

/** Minimal view of the db state that decides whether a call may proceed. */
interface HasStatus {
  readonly status: string;
}

/** Throws DatabaseClosedError unless the db is open (checked before touching it or a cache). */
export function assertOpen(db: HasStatus): void {
  if (db.status !== 'open') throw new DatabaseClosedError(`database is not open (status: ${db.status})`);
}

/** Translates abstract-level's "not open" error into DatabaseClosedError; other errors pass through. */
export function mapLevelError(err: unknown): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'LEVEL_DATABASE_NOT_OPEN') {
    return new DatabaseClosedError('database is not open', { cause: err });
  }
  return err;
}

/** Awaits a db call, mapping its errors with {@link mapLevelError}. */
export async function levelCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw mapLevelError(err);
  }
}
