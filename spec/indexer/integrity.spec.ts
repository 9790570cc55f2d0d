/**
 * An index that never loses or lies: queries answer on the snapshot they started with while reorgs
 * of every depth run under them (with a slowed store), crashes at any write leave a db that reopens
 * and continues to the right answer, the index refuses another chain and (by default) deep reorgs,
 * opening never writes, one writer per db.
 */
import fc from 'fast-check';
import type { MemoryLevel } from 'memory-level';
import { from, type Observable, of } from 'rxjs';
import { BloomIndex } from '../../src/bloomIndex.js';
import { ChainError, CorruptDataError, IndexBusyError, InvalidOptionError } from '../../src/errors.js';
import { tailKey } from '../../src/indexer/tailStore.js';
import type { BlockHeader, Log, LogFilter } from '../../src/types/chain.js';
import type { Hex } from '../../src/types/hex.js';
import {
  ADDRESSES,
  all,
  bruteMatch,
  dumpDb,
  makeChain,
  memoryDbs,
  run,
  syntheticLog,
  TOPICS,
} from './helpers.js';

type Db = MemoryLevel<Uint8Array, Uint8Array>;
const newDb = memoryDbs();

const factory =
  (headers: readonly BlockHeader[], calls?: number[]) =>
  (fromBlock: number): Observable<BlockHeader> => {
    calls?.push(fromBlock);
    return from(headers.slice(fromBlock));
  };

const WRITES = new Set(['put', 'del', 'batch', 'clear']);

/**
 * A view of `db` whose reads (`getMany`) take `delayMs` more, and whose `failAt`-th write
 * (counting from 1) and every later one fail: a crash at that point, as far as the db is concerned.
 */
function wrap(db: Db, opts: { delayMs?: number; failAt?: number; writes?: string[] } = {}): Db {
  let writes = 0;
  return new Proxy(db, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      if (prop === 'getMany' && opts.delayMs) {
        return async (...args: unknown[]) => {
          await new Promise((r) => setTimeout(r, opts.delayMs));
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      if (WRITES.has(prop as string)) {
        /** Counts one write; the error to fail it with once `failAt` is reached. */
        const crash = (what: string): Error | undefined => {
          opts.writes?.push(what);
          if (opts.failAt !== undefined && ++writes >= opts.failAt) {
            return new Error(`simulated crash at write ${writes}`);
          }
          return undefined;
        };
        return (...args: unknown[]) => {
          if (prop === 'batch' && args.length === 0) return chained(value.apply(target, args), crash);
          const error = crash(prop as string);
          if (error !== undefined) return Promise.reject(error);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return value.bind(target);
    },
  });
}

/** A chained batch whose `write()` is the write that may crash (the batch is then closed unwritten). */
function chained<B extends object>(batch: B, crash: (what: string) => Error | undefined): B {
  return new Proxy(batch, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      if (prop !== 'write') return value.bind(target);
      return (...args: unknown[]) => {
        const error = crash('batch');
        if (error === undefined) return value.apply(target, args);
        return (target as { close(): Promise<void> }).close().then(() => Promise.reject(error));
      };
    },
  });
}

const FILTERS: LogFilter[] = [
  {},
  { address: ADDRESSES[0] },
  { address: [ADDRESSES[1]!, ADDRESSES[2]!] },
  { topics: [TOPICS[0]!] },
  { address: ADDRESSES[3], topics: [null, TOPICS[4]!] },
];

const first = <T>(x: T | readonly T[] | null | undefined): T | undefined =>
  Array.isArray(x) ? (x[0] as T) : ((x ?? undefined) as T | undefined);

/** Receipts giving every block one log that passes `filter`: logs() then yields exactly the candidate blocks. */
const logsPassing =
  (filter: LogFilter) =>
  ({ number, hash }: { number: number; hash?: Hex }) =>
    of<Log[]>([
      syntheticLog(
        number,
        hash,
        first(filter.address) ?? ADDRESSES[0]!,
        (filter.topics ?? []).map((t) => (first(t) ?? TOPICS[0]!) as Hex),
      ),
    ]);

describe('a query answers on the snapshot it started with, through reorgs of every depth', () => {
  const SIZE = 16;
  const CONF = 4;
  const base = makeChain(400, 31);
  // committed: 399 - (16s + 15) >= 4 → sections 0..23, tail 384..399
  const forks: [string, number][] = [
    ['in the tail', 396],
    ['at the first tail block', 384],
    ['one section deep', 370],
    ['ten sections deep', 230],
    ['almost everything', 5],
  ];
  it.each(forks)('reorg %s (fork at %i), store slowed to 2 ms a read', async (_name, forkAt) => {
    const raw = newDb();
    const slow = wrap(raw, { delayMs: 2 });
    const index = await BloomIndex.open(slow, {
      sectionSize: SIZE,
      confirmations: CONF,
      workers: 4,
      batch: 2,
    });
    await run(index, from(base));
    expect(index.info().indexedHead).toBe(383);
    const next = makeChain(430, 32, base, forkAt);

    const before: Promise<void>[] = [];
    for (const [i, filter] of FILTERS.entries()) {
      const range = { fromBlock: i * 3, toBlock: 399 - i };
      before.push(
        all(index.match(filter, range)).then((got) =>
          expect(got).toEqual(bruteMatch(base, filter, range.fromBlock, range.toBlock)),
        ),
        all(index.logs(filter, range, { receipts: logsPassing(filter), concurrency: 3 })).then((logs) =>
          expect(logs.map((l) => Number(l.blockNumber))).toEqual(
            bruteMatch(base, filter, range.fromBlock, range.toBlock),
          ),
        ),
      );
    }
    await run(index, factory(next), true);
    const after = FILTERS.map((filter) =>
      all(index.match(filter)).then((got) => expect(got).toEqual(bruteMatch(next, filter, 0, 429))),
    );
    await Promise.all([...before, ...after]);
    // every query is done: the rolled-back vectors get swept, and the store equals a fresh index's
    const fresh = await BloomIndex.open(newDb(), { sectionSize: SIZE, confirmations: CONF });
    await run(fresh, from(next));
    const want = await dumpDb(fresh.store.db as Db);
    let got = await dumpDb(raw);
    for (let i = 0; i < 100 && got.length !== want.length; i++) {
      await new Promise((r) => setTimeout(r, 20));
      got = await dumpDb(raw);
    }
    expect(got).toEqual(want);
  });

  it('property: random reorg depths and random crash points; reopened, the index continues to the answer of the new chain', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 70 }), // fork depth below the head (up to 4 sections)
        fc.integer({ min: 0, max: 60 }), // blocks the new branch adds past the old head
        fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }), // the write that crashes
        fc.integer({ min: 0, max: FILTERS.length - 1 }),
        async (depth, extra, failAt, f) => {
          const filter = FILTERS[f]!;
          const old = base.slice(0, 120);
          const forkAt = 120 - depth;
          const next = makeChain(120 + extra + 1, 33 + depth, old, forkAt);
          const raw = newDb();
          const first = await BloomIndex.open(raw, { sectionSize: SIZE, confirmations: CONF });
          await run(first, from(old));
          const crashing = await BloomIndex.open(wrap(raw, { failAt }), {
            sectionSize: SIZE,
            confirmations: CONF,
          });
          const query = all(crashing.match(filter));
          const outcome = await run(crashing, factory(next), true).catch((e) => e);
          if (failAt === undefined) expect(outcome).not.toBeInstanceOf(Error);
          // a query started before the reorg answers for the old chain, crash or not
          expect(await query).toEqual(bruteMatch(old, filter, 0, 119));
          const reopened = await BloomIndex.open(raw, { sectionSize: SIZE, confirmations: CONF });
          await run(reopened, factory(next), true);
          const expected = await BloomIndex.open(newDb(), { sectionSize: SIZE, confirmations: CONF });
          await run(expected, from(next));
          expect(reopened.info()).toEqual(expected.info());
          expect(await all(reopened.match(filter))).toEqual(bruteMatch(next, filter, 0, next.length - 1));
          expect((await reopened.store.verify()).problems).toEqual([]);
          await newDb.closeAll();
        },
      ),
      { numRuns: 12, seed: 7 },
    );
  });
});

describe('chain identity and the reorg guard', () => {
  const SIZE = 64;
  const CONF = 8;
  const chain = makeChain(700, 41);
  const other = makeChain(900, 42);

  it('records block 0 and refuses another chain (factory or plain), changing nothing', async () => {
    const db = newDb();
    const index = await BloomIndex.open(db, { sectionSize: SIZE, confirmations: CONF });
    await run(index, from(chain));
    expect(
      Buffer.from((await db.get(new TextEncoder().encode('iCgenesis'))) as Uint8Array).toString('hex'),
    ).toBe(chain[0]!.hash.slice(2));
    const before = await dumpDb(db);
    const calls: number[] = [];
    for (const source of [factory(other, calls), from(other), from(other.slice(650))]) {
      const error = await run(index, source, true).catch((e) => e);
      expect(error).toBeInstanceOf(ChainError);
      expect(await dumpDb(db)).toEqual(before);
      expect(index.info().head).toBe(699);
    }
    // the factory walked back in exponential steps, not one block at a time
    expect(calls.length).toBeLessThanOrEqual(14);
    // a reopened index knows its chain too
    const reopened = await BloomIndex.open(db, { sectionSize: SIZE, confirmations: CONF });
    await expect(run(reopened, factory(other), true)).rejects.toThrow(/another chain/);
  });

  it('finds a 600-block-deep fork in O(log depth) restarts of a factory source', async () => {
    const long = makeChain(5000, 43);
    const db = newDb();
    const index = await BloomIndex.open(db, { sectionSize: 256, confirmations: CONF });
    await run(index, from(long));
    const next = makeChain(5010, 44, long, 4400);
    const calls: number[] = [];
    await expect(run(index, factory(next, calls))).rejects.toThrow(/allowDeepReorg/);
    expect(calls.length).toBeLessThanOrEqual(14);
    calls.length = 0;
    await run(index, factory(next, calls), true);
    expect(calls.length).toBeLessThanOrEqual(14);
    expect(await all(index.match({ address: ADDRESSES[1] }))).toEqual(
      bruteMatch(next, { address: ADDRESSES[1] }, 0, 5009),
    );
  });

  it('one writer per db: a second BloomIndex on the same db indexing at once gets IndexBusyError', async () => {
    const db = newDb();
    const a = await BloomIndex.open(db, { sectionSize: SIZE, confirmations: CONF });
    const b = await BloomIndex.open(db, { sectionSize: SIZE, confirmations: CONF });
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const slow = (async function* () {
      for (const h of chain.slice(0, 50)) {
        if (h.number === 10) await gate;
        yield h;
      }
    })();
    const first = run(a, slow);
    await expect(run(b, from(chain))).rejects.toBeInstanceOf(IndexBusyError);
    release();
    await first;
    expect(a.info().head).toBe(49);
  });
});

describe('unsubscribing from indexHeaders', () => {
  it('mid-run: the write in flight finishes, a new run right after continues to the same store as a fresh run', async () => {
    const chain = makeChain(900, 61);
    const db = newDb();
    const index = await BloomIndex.open(db, { sectionSize: 64, confirmations: 8 });
    const slow = (async function* () {
      for (const h of chain) {
        if (h.number % 50 === 0) await new Promise((r) => setTimeout(r, 1));
        yield h;
      }
    })();
    const sub = index.indexHeaders(slow).subscribe();
    while (index.info().sections < 3) await new Promise((r) => setTimeout(r, 1));
    sub.unsubscribe();
    expect(index.indexing).toBe(false);
    await run(index, factory(chain));
    const fresh = await BloomIndex.open(newDb(), { sectionSize: 64, confirmations: 8 });
    await run(fresh, from(chain));
    expect(index.info()).toEqual(fresh.info());
    expect(await dumpDb(db)).toEqual(await dumpDb(fresh.store.db as Db));
  });
});

describe('opening and querying never write', () => {
  it('open, info, match and logs on an existing index (with a tail) and on an empty db make no write', async () => {
    const raw = newDb();
    const index = await BloomIndex.open(raw, { sectionSize: 64, confirmations: 8 });
    await run(index, from(makeChain(300, 51)));
    for (const db of [raw, newDb()]) {
      const writes: string[] = [];
      const watched = wrap(db, { writes });
      const reopened = await BloomIndex.open(watched, { sectionSize: 64 });
      reopened.info();
      await all(reopened.match({ address: ADDRESSES[0] }));
      await all(reopened.logs({ address: ADDRESSES[0] }, {}, { receipts: logsPassing({}) }));
      expect(writes).toEqual([]);
    }
  });

  it('a tail that does not continue the committed sections is a CorruptDataError naming the key', async () => {
    const db = newDb();
    const index = await BloomIndex.open(db, { sectionSize: 64, confirmations: 8 });
    await run(index, from(makeChain(300, 52)));
    // sections 0..3 are committed (tail from 256); drop tail block 260 to leave a gap
    await db.del(tailKey(260));
    const error = await BloomIndex.open(db, { sectionSize: 64 }).catch((e) => e);
    expect(error).toBeInstanceOf(CorruptDataError);
    expect(error.details.key).toBe('iT261');
  });

  it.each([-1, 1.5, Number.NaN, '8'])('confirmations %p is an InvalidOptionError', async (confirmations) => {
    const error = await BloomIndex.open(newDb(), { confirmations: confirmations as number }).catch((e) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error.option).toBe('confirmations');
  });
});
