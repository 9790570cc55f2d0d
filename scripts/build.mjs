#!/usr/bin/env node
// Builds dist/ for both module systems from one tsc run:
//   dist/        CommonJS (+ .d.ts, source maps), and the CLI bin dist/cli/main.js  ← tsc
//   dist/esm/    ES modules of the library (not the CLI), same .d.ts               ← esbuild, file by file
// Source maps point at ../src (shipped in the package). A clean build: stale files of moved modules never ship.
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
// Built beside dist/ (same depth, so source map paths hold) and swapped in whole at the end: a build never
// leaves a partial dist/, and a concurrent one (another checkout user, a watcher) never sees it half-deleted.
const final = join(root, 'dist');
const dist = join(root, `.dist-${process.pid}`);
const esm = join(dist, 'esm');
const isCli = (file) => relative(join(root, 'src'), file).startsWith('cli');

function walk(dir, keep) {
  return readdirSync(dir).flatMap((name) => {
    const file = join(dir, name);
    if (statSync(file).isDirectory()) return walk(file, keep);
    return keep(file) ? [file] : [];
  });
}

const tsc = join(root, 'node_modules/typescript/bin/tsc');
const compiled = spawnSync(
  process.execPath,
  [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', dist],
  {
    stdio: 'inherit',
  },
);
if (compiled.status !== 0) {
  rmSync(dist, { recursive: true, force: true });
  process.exit(compiled.status ?? 1);
}

await build({
  entryPoints: walk(join(root, 'src'), (f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !isCli(f)),
  outdir: esm,
  outbase: join(root, 'src'),
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  sourcemap: true,
  sourcesContent: false,
  logLevel: 'warning',
});
// The declarations are module-system neutral (relative imports carry .js): the same files serve both.
for (const file of walk(
  dist,
  (f) => f.endsWith('.d.ts') && !f.startsWith(esm) && !isCli(join(root, 'src', relative(dist, f))),
)) {
  const target = join(esm, relative(dist, file));
  mkdirSync(join(target, '..'), { recursive: true });
  cpSync(file, target);
}
writeFileSync(
  join(esm, 'package.json'),
  `${JSON.stringify({ type: 'module', sideEffects: false }, null, 2)}\n`,
);
const old = `${final}.old-${process.pid}`;
if (existsSync(final)) renameSync(final, old);
renameSync(dist, final);
rmSync(old, { recursive: true, force: true });
