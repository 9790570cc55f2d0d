#!/usr/bin/env node
// Installs the packed tarball into a throw-away project and uses it the way users do:
//   types:   a TS file under module nodenext (ESM and .cts) and under moduleResolution bundler, skipLibCheck false,
//            opening the index on ClassicLevel, MemoryLevel, BrowserLevel and a sublevel;
//   runtime: a CommonJS and an ES module script index a small chain in memory-level/classic-level and match;
//   browser: esbuild bundles the main entry for platform 'browser' and fails on any Node built-in;
//   sizes:   minified+gzipped bundles of a match()-only script and of the whole main entry.
// Dependencies are symlinked from this repo's node_modules (only those the packed package.json declares, plus
// the test tools), so the run is offline and fast while an undeclared dependency still fails to resolve.
// Prints one line per check and `consumer: N passed, N failed`; writes .tmp/consumer-results.json; exit 1 on failure.
// Packs with --ignore-scripts: run `npm run build` first (npm test does; this script builds when dist/ is missing).
import { execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const root = new URL('..', import.meta.url).pathname;
const repoModules = join(root, 'node_modules');
const TOOLS = ['typescript', 'esbuild', '@types/node', 'memory-level', 'classic-level', 'browser-level'];
const results = [];
const started = Date.now();

/** Runs one named check; its line is printed once every check of its batch settled, in order. */
async function check(name, fn) {
  const t = Date.now();
  try {
    const note = await fn();
    results.push({ name, ok: true });
    console.log(`ok   ${name}${note ? ` (${note})` : ''} ${Date.now() - t} ms`);
  } catch (err) {
    results.push({ name, ok: false });
    console.log(
      `FAIL ${name}\n${String(err?.stdout ?? '')}${String(err?.stderr ?? '')}${err?.message ?? err}`,
    );
  }
}

/** Spawns `cmd` (concurrently with other checks); resolves to its stdout, rejects on a non-zero exit. */
function run(cmd, args, cwd) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) return resolve(stdout);
      reject(Object.assign(new Error(`${cmd} ${args.join(' ')} exited with ${code}`), { stdout, stderr }));
    });
  });
}

const work = mkdtempSync(join(tmpdir(), 'rx-bloombits-consumer-'));
const app = join(work, 'app');
try {
  if (!existsSync(join(root, 'dist/index.js')))
    execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });

  let tarball;
  await check('npm pack', async () => {
    const out = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], root);
    const [info] = JSON.parse(out);
    tarball = join(work, info.filename);
    const files = new Set(info.files.map((f) => f.path));
    for (const f of [
      'LICENSE',
      'dist/index.js',
      'dist/esm/index.js',
      'dist/node.d.ts',
      'dist/cli/main.js',
      'src/index.ts',
    ])
      if (!files.has(f)) throw new Error(`the tarball lacks ${f}`);
    return `${info.entryCount} files, ${(info.size / 1024).toFixed(0)} KiB`;
  });
  if (!tarball) throw new Error('nothing to install');

  const nm = join(app, 'node_modules');
  const pkgDir = join(nm, 'rx-bloombits');
  mkdirSync(pkgDir, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', pkgDir, '--strip-components=1']);
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  const deps = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {}), ...TOOLS];
  for (const dep of new Set(deps)) {
    const target = join(nm, dep);
    mkdirSync(join(target, '..'), { recursive: true });
    if (!existsSync(target)) symlinkSync(join(repoModules, dep), target, 'dir');
  }
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
  );
  for (const [file, text] of Object.entries(consumerFiles())) writeFileSync(join(app, file), text);

  const tsc = join(nm, 'typescript/bin/tsc');
  const esbuild = await import(join(nm, 'esbuild/lib/main.js'));
  const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
  const bundle = async (entry) => {
    const pulled = [];
    const result = await esbuild.build({
      entryPoints: [join(app, entry)],
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      logLevel: 'silent',
      // Node built-ins are external so the build finishes and lists every one of them, not just the first.
      external: [...builtins],
      metafile: true,
    });
    for (const out of Object.values(result.metafile.outputs))
      for (const imp of out.imports) if (builtins.has(imp.path)) pulled.push(imp.path);
    const text = result.outputFiles[0].text;
    // Node-only globals used unguarded (a heuristic on the minified text; global names survive minification).
    const globals = [
      ['setImmediate', '\\('],
      ['Buffer', '[.(]'],
      ['process', '\\.'],
    ];
    for (const [global, use] of globals)
      if (new RegExp(`(?<![\\w$.])${global}${use}`).test(text)) pulled.push(`global ${global}`);
    if (pulled.length > 0)
      throw new Error(`${entry} pulls Node built-ins into a browser bundle: ${pulled.join(', ')}`);
    // Packages with code left in the bundle (tree-shaken-away inputs do not count).
    const kept = Object.values(result.metafile.outputs).flatMap((o) =>
      Object.entries(o.inputs).flatMap(([file, info]) => (info.bytesInOutput > 0 ? [file] : [])),
    );
    const packages = new Set(
      kept.map((i) => i.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)?.[1]).filter(Boolean),
    );
    const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
    return `${kib(text.length)} min, ${kib(gzipSync(text).length)} gzip; ${[...packages].join(', ')}`;
  };

  // Independent: run them side by side (child processes and esbuild's service).
  await Promise.all([
    check('types: module nodenext (ESM + CJS), skipLibCheck false', async () => {
      await run(process.execPath, [tsc, '-p', 'tsconfig.nodenext.json'], app);
    }),
    check('types: moduleResolution bundler, skipLibCheck false', async () => {
      await run(process.execPath, [tsc, '-p', 'tsconfig.bundler.json'], app);
    }),
    check('runtime: CommonJS require (memory-level)', async () =>
      (await run(process.execPath, ['run.cjs'], app)).trim(),
    ),
    check('runtime: ES module import (classic-level)', async () =>
      (await run(process.execPath, ['run.mjs'], app)).trim(),
    ),
    check('browser bundle: match() only, no Node built-ins', () => bundle('browser-match.mjs')),
    check('browser bundle: whole main entry, no Node built-ins', () => bundle('browser-all.mjs')),
  ]);
  esbuild.stop?.();
} catch (err) {
  results.push({ name: 'setup', ok: false });
  console.log(`FAIL setup: ${err?.stack ?? err}`);
} finally {
  if (!process.env.KEEP_CONSUMER) rmSync(work, { recursive: true, force: true });
  else console.log(`kept ${work}`);
}

const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
mkdirSync(join(root, '.tmp'), { recursive: true });
writeFileSync(join(root, '.tmp/consumer-results.json'), JSON.stringify({ passed, failed, results }));
console.log(`consumer: ${passed} passed, ${failed} failed (${((Date.now() - started) / 1000).toFixed(1)} s)`);
process.exitCode = failed > 0 ? 1 : 0;

/** The consumer project's files (a hoisted declaration, so it can sit after the checks). */
function consumerFiles() {
  const compiler = {
    strict: true,
    noEmit: true,
    skipLibCheck: false,
    target: 'es2022',
    lib: ['es2022', 'dom'],
    types: ['node'],
  };
  // A small chain: `hits` carry the token's address in their bloom, every other bloom is empty.
  const scenario = (level) => `
const TOKEN = '0x${'ab'.repeat(20)}';
const hits = [3, 17, 40, 41, 77];
const hex = (n) => '0x' + n.toString(16).padStart(64, '0');
const headers = Array.from({ length: 100 }, (_, n) => ({
  number: n,
  hash: hex(n + 1),
  parentHash: n === 0 ? hex(0) : hex(n),
  logsBloom: api.bytesToHex(api.createBloom(hits.includes(n) ? [{ address: TOKEN, topics: [] }] : [])),
}));
const db = ${level};
const index = await api.BloomIndex.open(db, { sectionSize: 16, confirmations: 8 });
await lastValueFrom(index.indexHeaders(from(headers)));
const found = await lastValueFrom(index.match({ address: TOKEN }, { fromBlock: 0, toBlock: 'latest' }).pipe(toArray()));
if (JSON.stringify(found) !== JSON.stringify(hits)) throw new Error('match: ' + JSON.stringify(found));
if (node.BloomBitsError !== api.BloomBitsError) throw new Error('the node entry has its own copy of the core');
if (typeof node.ndjsonHeaders !== 'function' || 'ndjsonHeaders' in api) throw new Error('file sources misplaced');
await db.close();
console.log((await index.info()).sections + ' sections, ' + found.length + ' matches');
`;
  return {
    'tsconfig.nodenext.json': JSON.stringify({
      compilerOptions: { ...compiler, module: 'nodenext', moduleResolution: 'nodenext' },
      files: ['check.ts', 'check.cts'],
    }),
    'tsconfig.bundler.json': JSON.stringify({
      compilerOptions: { ...compiler, module: 'esnext', moduleResolution: 'bundler' },
      files: ['check.ts'],
    }),
    'check.ts': `
import { BrowserLevel } from 'browser-level';
import { ClassicLevel } from 'classic-level';
import { MemoryLevel } from 'memory-level';
import { lastValueFrom, toArray } from 'rxjs';
import { BloomBitsStore, BloomIndex, createMatcher, type LogFilter, rpcHeaders, rpcReceipts, storeRetriever, verifyStore } from 'rx-bloombits';
import { BloomIndex as NodeBloomIndex, ndjsonHeaders, ndjsonLogs, rlpFileHeaders } from 'rx-bloombits/node';

export async function readme(url: string): Promise<number[]> {
  const db = new ClassicLevel('./chain-index', { keyEncoding: 'view', valueEncoding: 'view' });
  const index = await BloomIndex.open(db);
  index.indexHeaders((from) => rpcHeaders(url, { fromBlock: from })).subscribe((p) => console.log(p.headNumber));
  const filter: LogFilter = { address: '0x${'ab'.repeat(20)}', topics: [null] };
  index.logs(filter, { fromBlock: 0, toBlock: 'latest' }, { receipts: rpcReceipts(url) }).subscribe();
  await BloomIndex.open(new ClassicLevel('./other'));
  await BloomIndex.open(new MemoryLevel());
  await BloomIndex.open(db.sublevel<Uint8Array, Uint8Array>('bloom', { keyEncoding: 'view', valueEncoding: 'view' }));
  await NodeBloomIndex.open(new BrowserLevel('idb', { keyEncoding: 'view', valueEncoding: 'view' }));
  const memory = new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: 'view', valueEncoding: 'view' });
  const store = await BloomBitsStore.open(memory);
  await store.db.put(new Uint8Array(1), new Uint8Array(1));
  await verifyStore(memory);
  index.indexHeaders(ndjsonHeaders('headers.ndjson'));
  index.indexHeaders(rlpFileHeaders('headers.rlp'));
  index.logs(filter, {}, { receipts: ndjsonLogs('logs.ndjson') });
  const matcher = createMatcher({ retriever: storeRetriever(store) });
  return lastValueFrom(matcher.match(filter, { fromBlock: 0, toBlock: 100 }).pipe(toArray()));
}
`,
    'check.cts': `
import { MemoryLevel } from 'memory-level';
import { BloomIndex } from 'rx-bloombits';
import { ndjsonHeaders } from 'rx-bloombits/node';
export const open = () => BloomIndex.open(new MemoryLevel());
export const source = ndjsonHeaders('headers.ndjson');
`,
    'run.cjs': `
const api = require('rx-bloombits');
const node = require('rx-bloombits/node');
const { MemoryLevel } = require('memory-level');
const { from, lastValueFrom, toArray } = require('rxjs');
(async () => {${scenario("new MemoryLevel({ keyEncoding: 'view', valueEncoding: 'view' })")}})().catch((e) => { console.error(e); process.exit(1); });
`,
    'run.mjs': `
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import * as api from 'rx-bloombits';
import * as node from 'rx-bloombits/node';
import { from, lastValueFrom, toArray } from 'rxjs';
${scenario("new ClassicLevel(join(mkdtempSync(join(tmpdir(), 'rxbb-')), 'db'), { keyEncoding: 'view', valueEncoding: 'view' })")}
`,
    'browser-match.mjs': `
import { createMatcher } from 'rx-bloombits';
const vectors = new Map();
const matcher = createMatcher({ retriever: ({ bit, sections }) => [sections.map((s) => vectors.get(bit + ':' + s))] });
matcher.match({ address: '0x${'ab'.repeat(20)}' }, { fromBlock: 0, toBlock: 8191 }).subscribe(console.log);
`,
    'browser-all.mjs': `export * from 'rx-bloombits';\n`,
  };
}
