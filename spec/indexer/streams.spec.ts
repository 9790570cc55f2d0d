/**
 * Streams that never go quiet: indexHeaders, match, logs and watch at sizes where recursion would
 * overflow, with synchronous and asynchronous sources, against brute-force oracles; logs() options
 * and bounded pulling; watch() catching up from the index instead of buffering live headers.
 */
import { MemoryLevel } from 'memory-level';
import { from, lastValueFrom, NEVER, of, Subject, takeUntil, takeWhile, timer } from 'rxjs';
import { BloomIndex } from '../../src/bloomIndex.js';
import { InvalidOptionError } from '../../src/errors.js';
import type { BlockHeader, Log } from '../../src/types/chain.js';
import type { Hex } from '../../src/types/hex.js';
import {
  ADDRESSES,
  all,
  bruteMatch,
  cheapChain,
  makeChain,
  memoryDbs,
  run,
  syntheticLog,
} from './helpers.js';

const newDb = memoryDbs();

const address = ADDRESSES[0]!;

/** One log of `address` per block, tagged with the block's hash as given (so tests see which chain). */
const logOf = (number: number, hash?: Hex): Log => syntheticLog(number, hash, address);
const receipts = ({ number, hash }: { number: number; hash?: Hex }) => of([logOf(number, hash)]);

async function* asyncHeaders(headers: readonly BlockHeader[]) {
  for (const h of headers) yield h;
}

describe('indexHeaders is stack-safe', () => {
  it('indexes 3000 headers of a synchronous source with the default options (used to stall at ~1834)', async () => {
    const chain = makeChain(3000, 5);
    const index = await BloomIndex.open(newDb());
    const last = await run(index, from(chain));
    expect(last?.headNumber).toBe(2999);
    expect(await all(index.match({ address }, { fromBlock: 0, toBlock: 'latest' }))).toEqual(
      bruteMatch(chain, { address }, 0, 2999),
    );
  });

  const N = 100_000;
  const chain = cheapChain(N);
  const expected = bruteMatch(chain, { address }, 0, N - 1);
  it.each([
    ['synchronous', () => from(chain)],
    ['asynchronous (one microtask per header)', () => asyncHeaders(chain)],
  ])(
    `${N.toLocaleString('en')} headers, %s source: match and logs equal the oracle`,
    async (_name, source) => {
      const index = await BloomIndex.open(newDb());
      const last = await run(index, source());
      expect(last).toMatchObject({ headNumber: N - 1, sections: Math.floor((N - 256) / 4096) });
      expect(await all(index.match({ address }))).toEqual(expected);
      const logs = await all(index.logs({ address }, { fromBlock: 0, toBlock: 'latest' }, { receipts }));
      expect(logs.map((l) => Number(l.blockNumber))).toEqual(expected);
    },
  );
});

describe('watch() at size', () => {
  const N = 100_000;
  const chain = cheapChain(N);
  const expected = bruteMatch(chain, { address }, 0, N - 1);
  it.each([
    ['synchronous', () => from(chain)],
    ['asynchronous', () => asyncHeaders(chain)],
  ])(
    `indexing ${N.toLocaleString('en')} headers from a %s source while watching delivers every passing block once`,
    async (_name, source) => {
      const index = await BloomIndex.open(newDb());
      const last = expected.at(-1)!;
      const logs = await all(
        index
          .watch({ address }, { receipts, source: source() })
          .pipe(takeWhile((l) => Number(l.blockNumber) < last, true)),
      );
      expect(logs.map((l) => Number(l.blockNumber))).toEqual(expected);
    },
  );
});

describe('logs() options and errors', () => {
  let index: BloomIndex;
  const shared = new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: 'view', valueEncoding: 'view' });
  beforeAll(async () => {
    index = await BloomIndex.open(shared, { sectionSize: 64, confirmations: 8 });
    await run(index, from(makeChain(300, 3)));
  });
  afterAll(() => shared.close());

  it.each([0, -1, Number.NaN, 1.5, Number.POSITIVE_INFINITY])(
    'concurrency %p is an InvalidOptionError (used to never settle)',
    async (concurrency) => {
      const error = await all(index.logs({ address }, {}, { receipts, concurrency })).catch((e) => e);
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect(error.option).toBe('concurrency');
    },
  );

  it('receipts that is not a function is an InvalidOptionError before anything runs', async () => {
    const bad = { receipts: undefined } as unknown as { receipts: typeof receipts };
    const error = await all(index.logs({ address }, {}, bad)).catch((e) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error.option).toBe('receipts');
  });

  it('receipts throwing synchronously ends the stream with that error (used to crash the process)', async () => {
    const boom = new Error('boom');
    const throwing = () => {
      throw boom;
    };
    await expect(all(index.logs({ address }, {}, { receipts: throwing }))).rejects.toBe(boom);
  });

  it('pulls candidates with bounded look-ahead: a stalled receipts source stops the section reads', async () => {
    const chain = makeChain(64 * 40 + 20, 4);
    const small = await BloomIndex.open(newDb(), { sectionSize: 64, confirmations: 8, workers: 1, batch: 1 });
    await run(small, from(chain));
    const read = jest.spyOn(small.store, 'readVectors');
    const stall = new Subject<void>();
    const done = all(
      small.logs({ address }, {}, { receipts: () => NEVER, concurrency: 2 }).pipe(takeUntil(stall)),
    );
    await lastValueFrom(timer(100));
    const sections = new Set(read.mock.calls.flatMap(([, s]) => s as number[]));
    stall.next();
    await done;
    // 40 committed sections; only a few batches may run ahead of the two stalled fetches
    expect(sections.size).toBeGreaterThan(0);
    expect(sections.size).toBeLessThanOrEqual(8);
  });
});

describe('watch() catches up from the index', () => {
  it('delivers every block once, on the current chain, when headers (and a reorg) arrive during a slow history', async () => {
    const SIZE = 32;
    const chain = makeChain(400, 21);
    const index = await BloomIndex.open(newDb(), { sectionSize: SIZE, confirmations: 64 });
    await run(index, from(chain.slice(0, 200)));
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    // history (blocks <= 199) waits at the gate; later blocks answer at once
    const slowReceipts = ({ number, hash }: { number: number; hash?: Hex }) =>
      from(number <= 199 ? gate.then(() => [logOf(number, hash)]) : Promise.resolve([logOf(number, hash)]));
    const stop = new Subject<void>();
    // every block passes {}: a block delivered twice, or from the dropped branch, shows
    const seen = all(index.watch({}, { receipts: slowReceipts }).pipe(takeUntil(stop)));
    await run(index, from(chain.slice(200, 300)));
    // a reorg of the tail (sections 0..6 are committed, the tail starts at 224) while the history waits
    expect(index.info().indexedHead).toBe(223);
    const fork = makeChain(330, 22, chain, 230);
    await run(index, from(fork.slice(220)));
    release();
    await lastValueFrom(timer(50));
    await run(index, from(makeChain(360, 23, fork, 330).slice(330)));
    await lastValueFrom(timer(50));
    stop.next();
    const final = makeChain(360, 23, fork, 330);
    const logs = await seen;
    const numbers = logs.map((l) => Number(l.blockNumber));
    expect(numbers).toEqual(bruteMatch(final, {}, 0, 359));
    // blocks above the fork were fetched from the new chain (by hash), never from the dropped one
    const stale = new Set(chain.slice(230, 300).map((h) => h.hash));
    expect(logs.filter((l) => stale.has(l.blockHash))).toEqual([]);
  });

  it('a fromBlock past the head is live only from that block on; unsubscribing stops it', async () => {
    const chain = makeChain(200, 7);
    const index = await BloomIndex.open(newDb(), { sectionSize: 32, confirmations: 8 });
    await run(index, from(chain.slice(0, 100)));
    const stop = new Subject<void>();
    const seen = all(index.watch({ address }, { receipts, fromBlock: 150 }).pipe(takeUntil(stop)));
    await run(index, asyncHeaders(chain.slice(100)));
    stop.next();
    expect((await seen).map((l) => Number(l.blockNumber))).toEqual(bruteMatch(chain, { address }, 150, 199));
  });

  it('bad options are InvalidOptionError notifications', async () => {
    const index = await BloomIndex.open(newDb(), { sectionSize: 32, confirmations: 8 });
    const bad = { receipts: 'nope' } as unknown as { receipts: typeof receipts };
    await expect(all(index.watch({ address }, bad))).rejects.toBeInstanceOf(InvalidOptionError);
  });
});
