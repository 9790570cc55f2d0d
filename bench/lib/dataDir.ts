import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Where generated data lives between runs (deterministic, so it is built once):
 * `bench/.data` (git-ignored) or `$BENCH_DATA`. Bump {@link DATA_VERSION} when a maker changes.
 */
export const DATA_VERSION = 1;
export const DATA_DIR = join(process.env.BENCH_DATA ?? join(__dirname, '..', '.data'), `v${DATA_VERSION}`);

/**
 * Returns `dir` (under {@link DATA_DIR}) after making sure `make` completed in it once:
 * a `.complete` marker is written last, so an interrupted build is redone from scratch.
 */
export async function cached(name: string, make: (dir: string) => Promise<void>): Promise<string> {
  const dir = join(DATA_DIR, name);
  const marker = join(dir, '.complete');
  if (existsSync(marker)) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await make(dir);
  writeFileSync(marker, new Date().toISOString());
  return dir;
}
