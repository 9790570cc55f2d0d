/**
 * The README's examples run as written: every ```ts block is type-checked and run, and
 * every ```sh block marked `<!-- readme-test: run -->` runs in bash, against the built
 * package (dist/, as installed: `import 'rx-bloombits'` resolves through package.json
 * "exports") with the bundled sample chain, in a fresh temporary directory.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { transformSync } from 'esbuild';
import { assertBuilt, MAIN, ROOT } from '../cli/helpers.js';
import { codeBlocks } from './markdown.js';

const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const blocks = codeBlocks(README);
const tsBlocks = blocks.filter((b) => b.lang === 'ts');
const shBlocks = blocks.filter((b) => b.lang === 'sh' && b.marks.includes('run'));

let dir: string;

/** A project that has installed rx-bloombits: node_modules holds the repo's packages and the repo itself. */
function makeConsumer(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'rxbb-readme-'));
  const modules = path.join(root, 'node_modules');
  mkdirSync(modules);
  for (const name of readdirSync(path.join(ROOT, 'node_modules'))) {
    if (name.startsWith('.')) continue;
    symlinkSync(path.join(ROOT, 'node_modules', name), path.join(modules, name));
  }
  symlinkSync(ROOT, path.join(modules, 'rx-bloombits'));
  symlinkSync(path.join(ROOT, 'examples'), path.join(root, 'examples'));
  // `rx-bloombits` / `npx rx-bloombits` on PATH: the built CLI.
  mkdirSync(path.join(root, 'bin'));
  const bin = path.join(root, 'bin', 'rx-bloombits');
  writeFileSync(bin, `#!/bin/sh\nexec "${process.execPath}" "${MAIN}" "$@"\n`);
  chmodSync(bin, 0o755);
  writeFileSync(
    path.join(root, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2022', 'DOM'],
        module: 'nodenext',
        moduleResolution: 'nodenext',
        strict: true,
        noUncheckedIndexedAccess: true,
        skipLibCheck: true,
        noEmit: true,
        types: ['node'],
      },
      include: ['*.mts'],
    }),
  );
  return root;
}

beforeAll(() => {
  assertBuilt();
  dir = makeConsumer();
  tsBlocks.forEach((b, i) => {
    writeFileSync(path.join(dir, `block${i}.mts`), b.body);
    const js = transformSync(b.body, { loader: 'ts', format: 'esm', target: 'node20' }).code;
    writeFileSync(path.join(dir, `block${i}.mjs`), js);
  });
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the README has runnable examples of both kinds', () => {
  expect(tsBlocks.length).toBeGreaterThanOrEqual(2);
  expect(shBlocks.length).toBeGreaterThanOrEqual(1);
});

test('the ts blocks type-check as a consumer project (module nodenext, strict)', () => {
  const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', dir], { cwd: dir, encoding: 'utf8', timeout: 50_000 });
  expect(r.stdout + r.stderr).toBe('');
  expect(r.status).toBe(0);
});

test('the ts blocks and the marked sh commands run in order, each exiting 0 without an error', () => {
  // In README order: later examples may use what earlier ones built (the index directory).
  const env = { ...process.env, PATH: `${path.join(dir, 'bin')}${path.delimiter}${process.env.PATH}` };
  for (const b of blocks) {
    const commands =
      b.lang === 'ts' && tsBlocks.includes(b)
        ? [[process.execPath, `block${tsBlocks.indexOf(b)}.mjs`]]
        : shBlocks.includes(b)
          ? shellCommands(b.body).map((c) => ['bash', '-c', c])
          : [];
    for (const [cmd, ...args] of commands) {
      const r = spawnSync(cmd!, args, { cwd: dir, env, encoding: 'utf8', timeout: 50_000 });
      // The library examples print their answers on stdout and nothing on stderr; the CLI may
      // report progress and a summary there, never an error (a pipeline's status is its last command's).
      const stderr = cmd === process.execPath || /error/i.test(r.stderr) ? r.stderr : '';
      expect({
        where: `README line ${b.line}: ${args.at(-1)}`,
        status: r.status,
        stderr,
        out: r.stdout !== '',
      }).toEqual({
        where: `README line ${b.line}: ${args.at(-1)}`,
        status: 0,
        stderr: '',
        out: true,
      });
    }
  }
});

/** The commands of an sh block: `\` continuations joined, comments and blank lines dropped, `npx` removed. */
function shellCommands(body: string): string[] {
  return body
    .replace(/\\\n\s*/g, '')
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => line.replace(/^npx rx-bloombits\b/, 'rx-bloombits'));
}
