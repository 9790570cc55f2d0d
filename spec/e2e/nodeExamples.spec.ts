/**
 * examples/node runs as written, against the built package (the scripts import 'rx-bloombits/node',
 * which resolves to dist/ through package.json "exports"): index the sample, query it, watch it grow.
 * Their types are checked by `npm run typecheck` (examples/node/tsconfig.json, checkJs).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { assertBuilt, ROOT } from '../cli/helpers.js';

let dir: string;
beforeAll(() => {
  assertBuilt();
  dir = mkdtempSync(path.join(tmpdir(), 'rxbb-node-examples-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs an example with plain node from a directory outside the repo (as a user would from theirs). */
function run(
  script: string,
  ...args: string[]
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [path.join(ROOT, 'examples/node', script), ...args], { cwd: dir });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

test('index-file.mjs indexes the sample, and a second run resumes with nothing to do', async () => {
  const first = await run('index-file.mjs', '--db', 'idx');
  expect({ code: first.code, stderr: first.stderr }).toEqual({ code: 0, stderr: '' });
  expect(first.stdout).toContain(
    'indexed blocks 0..12799: 3 sections committed, 512 in the tail (12800 new headers',
  );
  const again = await run('index-file.mjs', '--db', 'idx');
  expect(again.code).toBe(0);
  expect(again.stdout).toContain(
    'indexed blocks 0..12799: 3 sections committed, 512 in the tail (0 new headers',
  );
});

test('query.mjs streams the candidate blocks, then the exact logs of the demo filter', async () => {
  const r = await run('query.mjs', '--db', 'idx');
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  expect(r.stdout).toMatch(/^\d+ candidate blocks$/m);
  expect(r.stdout).toMatch(/^42 logs in 41 blocks \(\d+ false-positive blocks removed\)$/m);
});

test('watch.mjs answers from history, then live as new heads get indexed', async () => {
  const r = await run('watch.mjs', '--db', 'watch');
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  const match = /^42 logs: (\d+) from history, (\d+) live/m.exec(r.stdout);
  expect(match).not.toBeNull();
  expect(Number(match![1])).toBeGreaterThan(0);
  expect(Number(match![2])).toBeGreaterThan(0);
});
