import { existsSync } from 'node:fs';
import { ClassicLevel } from 'classic-level';
import { BloomBitsError } from '../errors.js';

/** A CLI failure: printed as one line on stderr, exit code 1 (2 for usage). */
export class CliError extends BloomBitsError {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/**
 * Opens the LevelDB directory of an index. `create: false` requires it to exist.
 * Turns classic-level's lock and open failures into one readable {@link CliError}.
 */
export async function openDb(dir: string, create: boolean): Promise<ClassicLevel<Uint8Array, Uint8Array>> {
  if (!create && !existsSync(dir))
    throw new CliError(`no index at ${dir} (run "rx-bloombits index --db ${dir} ..." first)`);
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, {
    keyEncoding: 'view',
    valueEncoding: 'view',
    createIfMissing: create,
  });
  try {
    await db.open();
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    if (cause?.code === 'LEVEL_LOCKED')
      throw new CliError(`the index at ${dir} is locked by another process`);
    throw new CliError(`cannot open the index at ${dir}: ${cause?.message ?? (e as Error).message}`);
  }
  return db;
}
