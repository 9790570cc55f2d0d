import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import type { Answer } from './answer.js';
import { DATA_DIR } from './dataDir.js';
import type { ShapeName } from './shapes.js';

export interface RssRun {
  /** RSS after opening the store, before the query (bytes). */
  before: number;
  /** Peak RSS of the child process (bytes, Linux VmHWM). */
  peak: number;
  /**
   * Peak private (anonymous) RSS: the larger of its 5 ms samples and VmHWM minus the final
   * file-backed RSS (both lower bounds of the true peak), and the sampled peak of file-backed
   * RSS (bytes; 0 off Linux). File-backed pages are mostly LevelDB's mapped table files.
   */
  anon: number;
  file: number;
  /** Resident pages of LevelDB's mapped table files at the end of the query (part of `file`; 0 off Linux). */
  tables: number;
  /** Sampled peaks: V8's heap (committed), its young generation, and ArrayBuffer contents (bytes). */
  heap: number;
  young: number;
  buffers: number;
  answer: Answer;
}

let bundled: Promise<string> | undefined;

/** Bundles lib/rssChild.ts (with the current src) into one CommonJS file under the data dir. */
function childScript(): Promise<string> {
  bundled ??= (async () => {
    const outfile = join(DATA_DIR, 'rss-child.cjs');
    await build({
      entryPoints: [join(__dirname, 'rssChild.ts')],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      external: ['classic-level'],
      logLevel: 'error',
    });
    return outfile;
  })();
  return bundled;
}

/**
 * Peak memory of a query of `shape` over `sections` sections of the store in `dir`, run
 * `repeat` times in a row (fresh matcher each), in a fresh node process.
 */
export async function queryRss(dir: string, sections: number, shape: ShapeName, repeat = 1): Promise<RssRun> {
  const script = await childScript();
  const args = [script, dir, String(sections), shape, String(repeat)];
  const { stdout } = await promisify(execFile)(process.execPath, args, {
    cwd: join(__dirname, '..', '..'),
    env: { ...process.env, NODE_PATH: join(__dirname, '..', '..', 'node_modules') },
  });
  return JSON.parse(stdout) as RssRun;
}
