import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { RLP } from '@ethereumjs/rlp';
import fc from 'fast-check';
import { lastValueFrom, Observable, take, toArray } from 'rxjs';
import { SourceError } from '../../src/errors.js';
import { DecodedHeader } from '../../src/indexer/decodedHeader.js';
import { decodeRlpHeader } from '../../src/sources/decodeRlpHeader.js';
import { readOnWorker } from '../../src/sources/headerWorker.js';
import { ndjsonHeaders } from '../../src/sources/ndjsonHeaders.js';
import { rlpFileHeaders } from '../../src/sources/rlpFileHeaders.js';
import type { BlockHeader } from '../../src/types/chain.js';
import { hexToBytes } from '../../src/types/hex.js';

// The worker readers against the main-thread readers (the oracle): same headers, same errors,
// on generated files that cross batches, read chunks and every slow path.

const FIXTURES = join(__dirname, '../fixtures/mainnet');
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'header-worker-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Exit codes of the workers started by the readers (a subclass records them). */
const mockStarted: Promise<number>[] = [];
jest.mock('node:worker_threads', () => {
  const actual = jest.requireActual<typeof import('node:worker_threads')>('node:worker_threads');
  class RecordedWorker extends actual.Worker {
    constructor(...args: ConstructorParameters<typeof actual.Worker>) {
      super(...args);
      mockStarted.push(new Promise((resolve) => this.once('exit', resolve)));
    }
  }
  return { ...actual, Worker: RecordedWorker };
});
const started = mockStarted;
beforeEach(() => {
  started.length = 0;
});

interface Outcome {
  headers: BlockHeader[];
  error?: { name: string; message: string; cause: unknown };
}

/** Everything a source emits, and how it ends. Worker headers must carry their fields' bytes. */
async function outcome(source: Observable<BlockHeader>, decoded: boolean): Promise<Outcome> {
  const headers: BlockHeader[] = [];
  const out: Outcome = { headers };
  await new Promise<void>((resolve) =>
    source.subscribe({
      next: (h) => {
        headers.push({ ...h });
        const bytes = DecodedHeader.bytesOf(h);
        if (decoded && bytes) {
          expect(bytes.hash).toEqual(hexToBytes(h.hash));
          expect(bytes.parentHash).toEqual(hexToBytes(h.parentHash));
          expect(bytes.bloom).toEqual(hexToBytes(h.logsBloom));
        }
      },
      error: (e: Error & { cause?: { code?: unknown } }) => {
        out.error = { name: e.constructor.name, message: e.message, cause: e.cause?.code };
        resolve();
      },
      complete: resolve,
    }),
  );
  return out;
}

async function sameAsMainThread(
  read: (path: string, options: { worker: boolean }) => Observable<BlockHeader>,
  path: string,
): Promise<Outcome> {
  started.length = 0;
  const onWorker = await outcome(read(path, { worker: true }), true);
  const onMain = await outcome(read(path, { worker: false }), false);
  expect(onWorker).toEqual(onMain);
  // One worker, gone when the stream ends; after a whole file it ended by itself (exit code 0).
  const exits = await Promise.all(started);
  expect(exits).toHaveLength(1);
  if (!onWorker.error) expect(exits).toEqual([0]);
  return onWorker;
}

const bytesOf = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const hex = (b: Uint8Array) => `0x${Buffer.from(b).toString('hex')}`;

/** One NDJSON line of each kind the readers treat differently. */
const line = fc.oneof(
  { weight: 12, arbitrary: fc.constant('good') },
  fc.constantFrom(
    'upper',
    'hexNumber',
    'blank',
    'spaces',
    'crlf',
    'escape',
    'extra',
    'badJson',
    'badHex',
    'noBloom',
  ),
);

function render(kind: string, n: number, hash: Uint8Array, parent: Uint8Array, bloom: Uint8Array): string {
  const h = {
    number: kind === 'hexNumber' ? `0x${n.toString(16)}` : n,
    hash: hex(hash),
    parentHash: hex(parent),
  };
  const full = { ...h, logsBloom: hex(bloom), timestamp: '0x6553f100' };
  switch (kind) {
    case 'upper':
      return JSON.stringify({ ...full, logsBloom: full.logsBloom.toUpperCase().replace('0X', '0x') });
    case 'blank':
      return '';
    case 'spaces':
      return ' \t ';
    case 'crlf':
      return `${JSON.stringify(full)}\r`;
    case 'escape':
      return JSON.stringify({ ...full, extraData: 'caf\u00e9 "quoted"' });
    case 'extra':
      return JSON.stringify({ a: [1, { b: null }], ...full, c: -1.5e3 });
    case 'badJson':
      return JSON.stringify(full).slice(0, -3);
    case 'badHex':
      return JSON.stringify({ ...full, hash: `0x${'zz'.repeat(32)}` });
    case 'noBloom':
      return JSON.stringify(h);
    default:
      return JSON.stringify(full);
  }
}

describe('ndjsonHeaders on a worker thread', () => {
  it('gives the same headers and errors as the main-thread reader (plain and gzipped, across batches and chunks)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(line, { minLength: 1, maxLength: 900 }),
        bytesOf(32),
        bytesOf(256),
        fc.boolean(),
        fc.boolean(),
        async (kinds, seed, bloom, gzip, trailingNewline) => {
          // Mostly good lines (an error stops the file): bad kinds rarely, late.
          const lines = kinds.map((k, i) => {
            const hash = seed.map((b) => b ^ (i & 255));
            return render(k, i, hash, seed, i % 7 ? bloom : new Uint8Array(256));
          });
          const text = lines.join('\n') + (trailingNewline ? '\n' : '');
          const path = join(dir, gzip ? 'lines.ndjson.gz' : 'lines.ndjson');
          writeFileSync(path, gzip ? gzipSync(text) : text);
          await sameAsMainThread(ndjsonHeaders, path);
        },
      ),
      { numRuns: 8 },
    );
  });

  it('emits nothing after a bad line (messages the worker sent on are dropped)', async () => {
    const good = render('good', 2, new Uint8Array(32), new Uint8Array(32), new Uint8Array(256));
    const path = join(dir, 'bad-first.ndjson');
    writeFileSync(path, ['{"number":', good, good].join('\n'));
    for (let i = 0; i < 10; i++) {
      const got = await outcome(ndjsonHeaders(path, { worker: true }), true);
      expect(got.headers).toEqual([]);
      expect(got.error?.message).toMatch(/:1: /);
    }
  });

  it('reports a corrupt gzip file and a missing file as the main-thread reader does', async () => {
    const gz = gzipSync(
      Buffer.from(render('good', 1, new Uint8Array(32), new Uint8Array(32), new Uint8Array(256))),
    );
    const corrupt = join(dir, 'corrupt.ndjson.gz');
    writeFileSync(corrupt, gz.subarray(0, gz.length >> 1));
    expect((await sameAsMainThread(ndjsonHeaders, corrupt)).error?.name).toBe('SourceError');
    const missing = await outcome(ndjsonHeaders(join(dir, 'missing.ndjson'), { worker: true }), true);
    expect(missing.error).toMatchObject({ name: 'SourceError', cause: 'ENOENT' });
    expect(missing).toEqual(
      await outcome(ndjsonHeaders(join(dir, 'missing.ndjson'), { worker: false }), false),
    );
  });

  it('terminates the worker on unsubscribe, long before the end of the file', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 5000; i++)
      lines.push(
        render('good', i, new Uint8Array(32).fill(i & 255), new Uint8Array(32), new Uint8Array(256)),
      );
    const path = join(dir, 'long.ndjson');
    writeFileSync(path, lines.join('\n'));
    const first = await lastValueFrom(ndjsonHeaders(path, { worker: true }).pipe(take(3), toArray()));
    expect(first.map((h) => h.number)).toEqual([0, 1, 2]);
    expect(await Promise.all(started)).toEqual([1]); // terminated (a worker that ends by itself exits with 0)
  });

  it('reads on the main thread unless asked (no worker by default, even for a large file)', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 4000; i++)
      lines.push(render('good', i, new Uint8Array(32), new Uint8Array(32), new Uint8Array(256)));
    const big = join(dir, 'big.ndjson');
    writeFileSync(big, lines.join('\n')); // > 2 MiB
    expect(await lastValueFrom(ndjsonHeaders(big).pipe(toArray()))).toHaveLength(4000);
    expect(started).toHaveLength(0);
  });
});

describe('rlpFileHeaders on a worker thread', () => {
  const mainnet = readFileSync(join(FIXTURES, 'mainnet-blocks.rlp'));

  /** A synthetic block with `fields` header fields (number as field 8). */
  function block(number: number, fields: number, nested = false): Uint8Array {
    const h: (Uint8Array | Uint8Array[])[] = [];
    for (let i = 0; i < fields; i++) h.push(new Uint8Array([i + 1]));
    h[0] = new Uint8Array(32).fill(number & 255);
    h[6] = new Uint8Array(256).fill(number & 255);
    const n = number === 0 ? new Uint8Array(0) : (RLP.decode(RLP.encode(number)) as Uint8Array);
    h[8] = nested ? [n] : n;
    return RLP.encode([h, [], []]);
  }

  it('gives the same headers and errors as the main-thread reader on corrupted files', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 300 }),
        fc.constantFrom('none', 'truncate', 'flip', 'append', 'nested'),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        async (synthetic, mutation, where, byte) => {
          const blocks: Uint8Array[] = [mainnet];
          for (let i = 0; i < synthetic; i++) blocks.push(block(1000 + i, 15 + (i % 7)));
          if (mutation === 'nested') blocks.push(block(5, 16, true));
          let bytes: Buffer = Buffer.concat(blocks);
          const at = where % bytes.length;
          if (mutation === 'truncate') bytes = bytes.subarray(0, at);
          if (mutation === 'flip') bytes[at] = byte;
          if (mutation === 'append') bytes = Buffer.concat([bytes, Buffer.from([byte, byte, 1])]);
          const path = join(dir, 'blocks.rlp');
          writeFileSync(path, bytes);
          await sameAsMainThread(rlpFileHeaders, path);
        },
      ),
      { numRuns: 10 },
    );
  });

  it('reads files of 2 MiB and more on a worker by default, smaller ones on the main thread', async () => {
    await lastValueFrom(rlpFileHeaders(join(FIXTURES, 'mainnet-blocks.rlp')).pipe(toArray()));
    expect(started).toHaveLength(0);
    const blocks: Uint8Array[] = [];
    for (let i = 0; i < 8000; i++) blocks.push(block(i, 16));
    const path = join(dir, 'big.rlp');
    writeFileSync(path, Buffer.concat(blocks));
    expect(blocks.reduce((n, b) => n + b.length, 0)).toBeGreaterThan(2 * 1024 * 1024);
    const byDefault = await outcome(rlpFileHeaders(path), true);
    expect(started).toHaveLength(1);
    expect(byDefault.headers).toHaveLength(8000);
    expect(byDefault).toEqual(await outcome(rlpFileHeaders(path, { worker: false }), false));
  });

  it('hands over to the worker at any block boundary: the main thread reads the head, the worker the rest', async () => {
    const blocks: Uint8Array[] = [mainnet];
    for (let i = 0; i < 500; i++) blocks.push(block(1000 + i, 16));
    const ends: number[] = []; // byte after each synthetic block, from the first
    let at = 0;
    for (const b of blocks.slice(1)) ends.push((at += b.length));
    const path = join(dir, 'handover.rlp');
    for (const tail of [Buffer.alloc(0), Buffer.from([0xc5, 1])]) {
      const bytes = Buffer.concat([...blocks, tail]);
      writeFileSync(path, bytes);
      const oracle = await outcome(rlpFileHeaders(path, { worker: false }), false);
      // Hand over after the mainnet blocks, after synthetic block 200, and at the end of the blocks.
      for (const start of [mainnet.length, mainnet.length + ends[199]!, mainnet.length + ends[499]!]) {
        started.length = 0;
        const viaWorker = new Observable<BlockHeader>((subscriber) => {
          const controller = new AbortController();
          const head = async (emit: (h: BlockHeader) => void, _signal: AbortSignal, ready: () => boolean) => {
            while (!ready()) await new Promise((resolve) => setTimeout(resolve, 5));
            let offset = 0;
            while (offset < start) {
              const length = RLP.decode(bytes.subarray(offset), true).remainder.length;
              const end = bytes.length - length;
              emit(decodeRlpHeader(bytes.subarray(offset, end)));
              offset = end;
            }
            return start;
          };
          const block = () => {
            throw new SourceError('not expected');
          };
          readOnWorker({ kind: 'rlp', path, block, head }, (h) => subscriber.next(h), controller.signal).then(
            () => subscriber.complete(),
            (e) => subscriber.error(e),
          );
          return () => controller.abort();
        });
        expect(await outcome(viaWorker, true)).toEqual(oracle);
        expect(await Promise.all(started)).toHaveLength(1);
      }
    }
  });

  it('terminates the worker on unsubscribe', async () => {
    const blocks: Uint8Array[] = [];
    for (let i = 0; i < 4000; i++) blocks.push(block(i, 16));
    const path = join(dir, 'long.rlp');
    writeFileSync(path, Buffer.concat(blocks));
    const first = await lastValueFrom(rlpFileHeaders(path, { worker: true }).pipe(take(3), toArray()));
    expect(first.map((h) => h.number)).toEqual([0, 1, 2]);
    expect(await Promise.all(started)).toEqual([1]);
  });
});
