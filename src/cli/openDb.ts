import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AbstractLevel } from 'abstract-level';
import { Level } from 'level';
import { BloomBitsError, type BloomBitsErrorCode } from '../errors.js';
import { INDEX_LEVEL_OPTIONS } from '../store/levelOptions.js';

/** A CLI failure: printed as one line on stderr, exit code 1 (2 for usage). */
export class CliError extends BloomBitsError {
  static override readonly code: BloomBitsErrorCode = 'CLI';
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/**
 * The db type the CLI hands to the library. (A `Level` is one, but TypeScript's
 * structural check of its `hooks` fails depending on check order, so openDb casts once.)
 */
// biome-ignore lint/suspicious/noExplicitAny: the library's own db type (any abstract-level flavour)
export type Db = AbstractLevel<any, any, any>;

/**
 * Opens the LevelDB directory of an index.
 * `write: false` (read commands): the directory must already hold a db (never created), and
 * the returned handle refuses every write that would change the data (see {@link readOnly}).
 * Opened through `level` (classic-level under Node), as the README shows library users, with
 * {@link INDEX_LEVEL_OPTIONS} (1 MiB tables, 64 open at most): LevelDB keeps every open table
 * memory-mapped, so these bound the pages a long query leaves resident.
 * Turns LevelDB's lock and open failures into one readable {@link CliError}.
 */
export async function openDb(dir: string, write: boolean): Promise<Db> {
  // LevelDB would leave a LOCK file in a directory that holds no db: check for one first.
  if (!write && !existsSync(join(dir, 'CURRENT')))
    throw new CliError(`no index at ${dir} (run "rx-bloombits index --db ${dir} ..." first)`);
  const db = new Level<Uint8Array, Uint8Array>(dir, { ...INDEX_LEVEL_OPTIONS, createIfMissing: write });
  try {
    await db.open();
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    if (cause?.code === 'LEVEL_LOCKED')
      throw new CliError(`the index at ${dir} is locked by another process`);
    if (!write && /does not exist/.test(cause?.message ?? ''))
      throw new CliError(`no index at ${dir} (run "rx-bloombits index --db ${dir} ..." first)`);
    throw new CliError(`cannot open the index at ${dir}: ${cause?.message ?? (e as Error).message}`);
  }
  const lib = db as unknown as Db;
  return write ? lib : readOnly(lib, dir);
}

/**
 * A view of `db` for read commands: `put`, `del`, `batch` and `sublevel` throw a {@link CliError};
 * `clear` is allowed only over a range that holds no key (a no-op), and throws otherwise.
 * So `query`/`info` can never change an index, even one that needs a repair.
 * (LevelDB itself may still rewrite its own log/manifest files when opened; the data stays the same.)
 */
export function readOnly(db: Db, dir: string): Db {
  const refuse = (what: string): CliError =>
    new CliError(
      `the index at ${dir} would need a write (${what}) and this command only reads: run "rx-bloombits index --db ${dir} ..." on it first`,
    );
  const guarded: Record<string | symbol, unknown> = {
    put: () => Promise.reject(refuse('put')),
    del: () => Promise.reject(refuse('del')),
    batch: () => {
      throw refuse('batch');
    },
    sublevel: () => {
      throw refuse('sublevel');
    },
    clear: async (options: { gte?: Uint8Array; lt?: Uint8Array; gt?: Uint8Array; lte?: Uint8Array } = {}) => {
      for await (const _ of db.keys({ ...options, limit: 1 })) throw refuse('clear');
    },
  };
  return new Proxy(db, {
    get(target, prop) {
      if (Object.hasOwn(guarded, prop)) return guarded[prop];
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
