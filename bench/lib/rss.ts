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
  /** Sampled peaks of its anonymous (private) and file-backed RSS (bytes; 0 off Linux). */
  anon: number;
  file: number;
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

/** Peak RSS of one query of `shape` over `sections` sections of the store in `dir`, in a fresh node process. */
export async function queryRss(dir: string, sections: number, shape: ShapeName): Promise<RssRun> {
  const script = await childScript();
  const { stdout } = await promisify(execFile)(process.execPath, [script, dir, String(sections), shape], {
    cwd: join(__dirname, '..', '..'),
    env: { ...process.env, NODE_PATH: join(__dirname, '..', '..', 'node_modules') },
  });
  return JSON.parse(stdout) as RssRun;
}
