import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ClassicLevel } from 'classic-level';
import { MemoryLevel } from 'memory-level';
import { from, lastValueFrom } from 'rxjs';
import { BloomIndex } from '../../src/bloomIndex.js';
import { dumpDb, makeChain, toNdjson } from './helpers.js';

const ROOT = path.resolve(__dirname, '../..');
const SIZE = 64;
const CONF = 16;
const chain = makeChain(2000, 11);

let dir: string;
const open: { close(): Promise<void> }[] = [];
const children: ChildProcess[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rxbb-crash-'));
});
afterEach(async () => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(open.splice(0).map((db) => db.close()));
  await rm(dir, { recursive: true, force: true });
});

interface ChildRun {
  lines: string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs the child; with `killAfter`, SIGKILLs it once it printed that many progress lines (plus a random few ms). */
function runChild(db: string, file: string, killAfter?: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '-r',
        'ts-node/register/transpile-only',
        'spec/indexer/crash-child.ts',
        db,
        file,
        String(SIZE),
        String(CONF),
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(child);
    const lines: string[] = [];
    let stderr = '';
    let buffered = '';
    let progress = 0;
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        if (line.startsWith('progress') && ++progress === killAfter) {
          setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 15));
        }
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ lines, code, signal, stderr }));
  });
}

it('SIGKILLed indexing runs, restarted, end with the same store as an uninterrupted run', async () => {
  const file = path.join(dir, 'headers.ndjson');
  await writeFile(file, toNdjson(chain));
  const dbDir = path.join(dir, 'db');

  const kills = [
    1 + Math.floor(Math.random() * 5),
    2 + Math.floor(Math.random() * 6),
    1 + Math.floor(Math.random() * 8),
  ];
  const starts: number[] = [];
  for (const k of kills) {
    const r = await runChild(dbDir, file, k);
    expect({ k, stderr: r.stderr, code: r.code }).toEqual({
      k,
      stderr: '',
      code: r.signal === 'SIGKILL' ? null : 0,
    });
    starts.push(Number(r.lines.find((l) => l.startsWith('start'))?.split(' ')[1]));
  }
  const last = await runChild(dbDir, file);
  expect(last.stderr).toBe('');
  expect(last.code).toBe(0);
  expect(last.lines.at(-1)).toBe('done');
  starts.push(Number(last.lines[0]!.split(' ')[1]));
  // every restart resumed where the killed run's commits left off (never behind, some progress kept)
  expect(starts[0]).toBe(0);
  for (let i = 1; i < starts.length; i++) expect(starts[i]).toBeGreaterThanOrEqual(starts[i - 1]!);
  expect(starts.at(-1)).toBeGreaterThan(0);

  const baseline = new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: 'view', valueEncoding: 'view' });
  open.push(baseline);
  const reference = await BloomIndex.open(baseline, { sectionSize: SIZE, confirmations: CONF });
  await lastValueFrom(reference.indexHeaders(from(chain)));

  const db = new ClassicLevel<Uint8Array, Uint8Array>(dbDir, { keyEncoding: 'view', valueEncoding: 'view' });
  open.push(db);
  await db.open();
  const index = await BloomIndex.open(db, { confirmations: CONF }); // confirmations are not stored
  expect(index.info()).toEqual(reference.info());
  expect(index.info().sections).toBe(31); // 1999 - (64s + 63) >= 16
  const [got, expected] = await Promise.all([dumpDb(db), dumpDb(baseline)]);
  expect(got.length).toBe(expected.length);
  expect(got).toEqual(expected);
});
