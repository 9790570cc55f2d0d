import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { ClassicLevel } from 'classic-level';
import { from, lastValueFrom } from 'rxjs';
import { BloomIndex } from '../../src/bloomIndex.js';
import { makeChain } from '../indexer/helpers.js';

export const ROOT = path.resolve(__dirname, '../..');
/** The built CLI: the tests spawn plain node on it (ts-node per child is too slow on a busy machine). */
export const MAIN = path.join(ROOT, 'dist/cli/main.js');
export const SAMPLE = 'examples/data/sample-headers.ndjson.gz';
export const SAMPLE_LOGS = 'examples/data/sample-logs.ndjson.gz';

/** Generous per-test limit: each test spawns a few node processes, possibly on 2 busy cores. */
export const CLI_TIMEOUT = 60_000;

/** Fails with a clear message when dist/ is missing or older than src/ (npm test builds it first). */
export function assertBuilt(): void {
  if (!existsSync(MAIN))
    throw new Error(`${MAIN} is missing: run "npm run build" first (npm test does it before jest)`);
  const built = statSync(MAIN).mtimeMs;
  const newer = newestSource(path.join(ROOT, 'src'));
  if (newer.mtime > built)
    throw new Error(`dist/ is older than ${path.relative(ROOT, newer.file)}: run "npm run build" first`);
}

function newestSource(dir: string): { file: string; mtime: number } {
  let best = { file: dir, mtime: 0 };
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    const next = entry.isDirectory() ? newestSource(file) : { file, mtime: statSync(file).mtimeMs };
    if (next.mtime > best.mtime) best = next;
  }
  return best;
}

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** A module to preload with `node -r` (test doubles). */
  preload?: string;
}

/** Runs the built CLI with `args` in the repository root; resolves when it exits. */
export function cli(args: readonly string[], options: CliOptions = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const preload = options.preload ? ['-r', options.preload] : [];
    const child = spawn(process.execPath, [...preload, MAIN, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export const lines = (s: string): string[] => s.split('\n').filter((l) => l !== '');

/** A failure: exit `code` (any non-zero when omitted), nothing on stdout, one "rx-bloombits: ..." line on stderr. */
export function expectOneError(r: Result, pattern: RegExp, code?: number): void {
  if (code === undefined) {
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBeNull();
  } else expect(r.code).toBe(code);
  expect(r.stdout).toBe('');
  expect(lines(r.stderr)).toHaveLength(1);
  expect(r.stderr).toMatch(/^rx-bloombits: /);
  expect(r.stderr).toMatch(pattern);
}

/** Opens a classic-level db for a test (binary keys and values). */
export async function openLevel(at: string): Promise<ClassicLevel<Uint8Array, Uint8Array>> {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(at, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  return db;
}

/** A small index built in-process at `at` (synthetic chain of 300 blocks, 64-block sections), closed again. */
export async function smallIndex(at: string): Promise<string> {
  const db = await openLevel(at);
  const index = await BloomIndex.open(db as never, { sectionSize: 64, confirmations: 8 });
  await lastValueFrom(index.indexHeaders(from(makeChain(300, 5))));
  await db.close();
  return at;
}

/** Every key and value of the db at `at`, as hex lines (to prove a command wrote nothing). */
export async function dump(at: string): Promise<string[]> {
  const db = await openLevel(at);
  const out: string[] = [];
  try {
    for await (const [k, v] of db.iterator())
      out.push(`${Buffer.from(k).toString('hex')}=${Buffer.from(v).toString('hex')}`);
  } finally {
    await db.close();
  }
  return out;
}

/** A CLI child left running (for --follow and Ctrl-C tests): its output so far and a way to wait for more. */
export interface RunningCli {
  child: import('node:child_process').ChildProcess;
  out: { stdout: string; stderr: string };
  /** Resolves once `test(out)` holds (checked on each chunk); rejects if the child exits first. */
  until(test: (out: { stdout: string; stderr: string }) => boolean): Promise<void>;
  /** Resolves with the result when the child exits. */
  exited: Promise<Result>;
}

/** Starts the built CLI without waiting for it to exit. */
export function startCli(args: readonly string[]): RunningCli {
  const child = spawn(process.execPath, [MAIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  const waiters = new Set<() => void>();
  const poke = () => {
    for (const w of waiters) w();
  };
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    out.stdout += s;
    poke();
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    out.stderr += s;
    poke();
  });
  let done = false;
  const exited = new Promise<Result>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      done = true;
      poke();
      resolve({ code, ...out });
    });
  });
  const until = (test: (o: typeof out) => boolean) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (test(out)) {
          waiters.delete(check);
          resolve();
        } else if (done) {
          waiters.delete(check);
          reject(new Error(`the CLI exited first:\n${out.stderr}`));
        }
      };
      waiters.add(check);
      check();
    });
  return { child, out, until, exited };
}
