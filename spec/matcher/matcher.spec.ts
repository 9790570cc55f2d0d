import { firstValueFrom, lastValueFrom, merge, NEVER, Observable, tap, toArray } from 'rxjs';
import { InvalidFilterError, InvalidRangeError, RetrievalError } from '../../src/errors.js';
import { createMatcher } from '../../src/matcher/matcher.js';
import type { RetrievalTask, Retriever } from '../../src/matcher/types.js';
import {
  allPairs,
  CountingRetriever,
  delayedRetriever,
  type Groups,
  hangingRetriever,
  oracle,
  randomWorld,
  syncRetriever,
  vectorOf,
} from './helpers.js';

const SIZE = 64;
const world = randomWorld(7, 0.5);
const collect = (o: Observable<number>) => lastValueFrom(o.pipe(toArray()), { defaultValue: [] as number[] });

describe('matcher: dedup and cache', () => {
  it('50 concurrent identical queries fetch each (bit, section) exactly once', async () => {
    const counting = new CountingRetriever(delayedRetriever(world, SIZE, 1));
    const m = createMatcher({ retriever: counting.retriever, sectionSize: SIZE, workers: 4, batch: 4 });
    const groups: Groups = [
      [[1, 2, 3]],
      [
        [2, 4, 5],
        [1, 6, 7],
      ],
    ];
    const range = { fromBlock: 37, toBlock: 1900 };
    const results = await Promise.all(Array.from({ length: 50 }, () => collect(m.matchBits(groups, range))));
    const expected = oracle(world, groups, 37, 1900);
    expect(expected.length).toBeGreaterThan(0);
    for (const r of results) expect(r).toEqual(expected);
    expect(counting.duplicates()).toEqual([]);
    // and only pairs a query over these groups can need
    const possible = allPairs(groups, 37, 1900, SIZE);
    for (const k of counting.pairs.keys()) expect(possible.has(k)).toBe(true);
  });

  it('1,000 concurrent identical queries fetch each (bit, section) exactly once (default workers, batch, lookahead)', async () => {
    const counting = new CountingRetriever(delayedRetriever(world, SIZE, 4));
    // A cache of 2,048 vectors (the default holds 4,096 of 512 bytes), fewer than the query reads.
    const m = createMatcher({
      retriever: counting.retriever,
      sectionSize: SIZE,
      cacheBytes: 2048 * (SIZE / 8),
    });
    const groups: Groups = [
      [[1, 2, 3]],
      [
        [2, 4, 5],
        [1, 6, 7],
      ],
    ];
    const range = { fromBlock: 0, toBlock: 300 * SIZE - 1 };
    const results = await Promise.all(
      Array.from({ length: 1000 }, () => collect(m.matchBits(groups, range))),
    );
    const expected = oracle(world, groups, range.fromBlock, range.toBlock);
    expect(expected.length).toBeGreaterThan(0);
    for (const r of results) expect(r).toEqual(expected);
    expect(counting.duplicates()).toEqual([]);
    expect(counting.pairs.size).toBeGreaterThan(2048);
  });

  it('50 different but overlapping filters merged: each (bit, section) fetched once, each result exact', async () => {
    const counting = new CountingRetriever(delayedRetriever(world, SIZE, 2));
    const m = createMatcher({ retriever: counting.retriever, sectionSize: SIZE, workers: 8, batch: 3 });
    const queries = Array.from({ length: 50 }, (_, i) => {
      const groups: Groups = [[[i % 5, (i + 1) % 5, 7]], [[(i * 3) % 6, 8], [9]]];
      const range = { fromBlock: (i * 13) % 300, toBlock: 900 + ((i * 29) % 700) };
      return { groups, range };
    });
    const results = await Promise.all(queries.map((q) => collect(m.matchBits(q.groups, q.range))));
    queries.forEach((q, i) => {
      expect(results[i]).toEqual(oracle(world, q.groups, q.range.fromBlock, q.range.toBlock));
    });
    expect(counting.duplicates()).toEqual([]);
  });

  it('merge of concurrent subscriptions shares one retrieval', async () => {
    const counting = new CountingRetriever(delayedRetriever(world, SIZE, 3));
    const m = createMatcher({ retriever: counting.retriever, sectionSize: SIZE, workers: 2, batch: 2 });
    const q = m.matchBits([[[3, 4, 5]]], { fromBlock: 0, toBlock: 999 });
    const all = await collect(merge(...Array.from({ length: 50 }, () => q)));
    expect(all.length).toBe(50 * oracle(world, [[[3, 4, 5]]], 0, 999).length);
    expect(counting.duplicates()).toEqual([]);
    expect(counting.vectors).toBe(3 * 16);
  });

  it('re-subscribing re-fetches nothing that is still cached', async () => {
    const counting = new CountingRetriever(syncRetriever(world, SIZE));
    const m = createMatcher({ retriever: counting.retriever, sectionSize: SIZE });
    const q = m.matchBits(
      [
        [
          [1, 2, 3],
          [4, 5, 6],
        ],
      ],
      { fromBlock: 10, toBlock: 2000 },
    );
    const first = await collect(q);
    const calls = counting.tasks.length;
    const hits = m.stats.cacheHits;
    expect(await collect(q)).toEqual(first);
    expect(counting.tasks.length).toBe(calls);
    expect(m.stats.cacheHits).toBeGreaterThan(hits);
  });

  it('by default the cache holds 2 MiB: 4,096 vectors of 4,096-block sections, about one batch of a 30-bit query', async () => {
    const vector = new Uint8Array(512);
    vector[0] = 0x80; // block 0 of every section
    const m = createMatcher({ retriever: ({ sections }) => [sections.map(() => vector)] });
    const blocks = await collect(m.matchBits([[[1, 2, 3]]], { fromBlock: 0, toBlock: 3000 * 4096 - 1 }));
    expect(blocks).toEqual(Array.from({ length: 3000 }, (_, s) => s * 4096));
    expect(m.stats.cachedVectors).toBe(4096);
    expect(m.stats.cachedBytes).toBe(2 * 1024 * 1024);
  });

  it('the cache is bounded: a small cacheBytes evicts (LRU) and re-fetches, never exceeding the bound', async () => {
    const counting = new CountingRetriever(syncRetriever(world, SIZE));
    const cacheBytes = 5 * (SIZE / 8);
    const m = createMatcher({ retriever: counting.retriever, sectionSize: SIZE, cacheBytes, batch: 2 });
    const q = m.matchBits([[[1, 2, 3]]], { fromBlock: 0, toBlock: 20 * SIZE - 1 });
    const check = tap<number>(() => expect(m.stats.cachedBytes).toBeLessThanOrEqual(cacheBytes));
    const first = await collect(q.pipe(check));
    expect(first).toEqual(oracle(world, [[[1, 2, 3]]], 0, 20 * SIZE - 1));
    expect(m.stats.cachedBytes).toBeLessThanOrEqual(cacheBytes);
    expect(m.stats.cachedVectors).toBe(5);
    const before = counting.vectors;
    expect(await collect(q.pipe(check))).toEqual(first);
    expect(counting.vectors).toBeGreaterThan(before); // evicted vectors were fetched again
    // With a large cache the same second run is free.
    const big = new CountingRetriever(syncRetriever(world, SIZE));
    const m2 = createMatcher({ retriever: big.retriever, sectionSize: SIZE, batch: 2 });
    const q2 = m2.matchBits([[[1, 2, 3]]], { fromBlock: 0, toBlock: 20 * SIZE - 1 });
    await collect(q2);
    const once = big.vectors;
    await collect(q2);
    expect(big.vectors).toBe(once);
  });

  it('clearCache forgets vectors', async () => {
    const counting = new CountingRetriever(syncRetriever(world, SIZE));
    const m = createMatcher({ retriever: counting.retriever, sectionSize: SIZE });
    const q = m.matchBits([[[1, 2, 3]]], { fromBlock: 0, toBlock: 200 });
    await collect(q);
    m.clearCache();
    expect(m.stats.cachedBytes).toBe(0);
    await collect(q);
    expect(counting.duplicates().length).toBe(3 * 4);
  });
});

describe('matcher: lazy, bounded, cancellable', () => {
  it('nothing runs before subscribe', () => {
    let calls = 0;
    const m = createMatcher({
      retriever: (t) => {
        calls++;
        return syncRetriever(world, SIZE)(t);
      },
      sectionSize: SIZE,
    });
    const q = m.matchBits([[[1, 2, 3]]], { fromBlock: 0, toBlock: 1000 });
    m.match({ address: '0x0000000000000000000000000000000000000000' }, { fromBlock: 0, toBlock: 1000 });
    expect(calls).toBe(0);
    q.subscribe().unsubscribe();
    expect(calls).toBeGreaterThan(0);
  });

  it.each([
    [1, 1, 1],
    [3, 4, 64],
    [2, 16, 64],
  ])(
    'look-ahead %i × batch %i bounds the sections requested of a retriever that never answers (workers %i)',
    (lookahead, batch, workers) => {
      for (const toBlock of [100 * SIZE, 1_000_000]) {
        const counting = new CountingRetriever(() => NEVER);
        const m = createMatcher({
          retriever: counting.retriever,
          sectionSize: SIZE,
          workers,
          batch,
          lookahead,
        });
        const groups: Groups = [[[1, 2, 3]], [[4, 5, 6]]];
        const sub = m.matchBits(groups, { fromBlock: 0, toBlock }).subscribe();
        const bound = lookahead * batch * 3; // group 0 never answers: group 1 never asks
        expect(counting.vectors).toBeLessThanOrEqual(bound);
        // The first batch asks all three bits; later ones, staged before anything is known,
        // only bits 1 and 2 (bit 3 waits for their answer).
        expect(counting.vectors).toBe(Math.min(batch * (3 + 2 * (lookahead - 1)), workers * batch));
        sub.unsubscribe();
      }
    },
  );

  it('look-ahead bounds group 1 too when group 0 answers and group 1 never does', () => {
    const lookahead = 3;
    const batch = 4;
    const counting = new CountingRetriever((task) =>
      task.bit < 4 ? [task.sections.map(() => new Uint8Array(SIZE / 8).fill(0xff))] : NEVER,
    );
    const m = createMatcher({
      retriever: counting.retriever,
      sectionSize: SIZE,
      workers: 100,
      batch,
      lookahead,
    });
    const sub = m.matchBits([[[1, 2, 3]], [[4, 5, 6]]], { fromBlock: 0, toBlock: 1_000_000 }).subscribe();
    // Group 0's three bits; group 1: all three for its first batch, then bits 4, 5 (6 waits for them).
    expect(counting.vectors).toBe(lookahead * batch * 3 + batch * (3 + 2 * (lookahead - 1)));
    sub.unsubscribe();
  });

  it('a slow consumer pulls more sections only as it takes numbers', async () => {
    const counting = new CountingRetriever(syncRetriever(() => true, SIZE));
    const m = createMatcher({ retriever: counting.retriever, sectionSize: SIZE, batch: 2, lookahead: 2 });
    const first = await firstValueFrom(m.matchBits([[[1]]], { fromBlock: 0, toBlock: 1_000_000 }));
    expect(first).toBe(0);
    expect(counting.vectors).toBeLessThanOrEqual(2 * 2 + 2);
  });

  it('unsubscribe aborts the signal of in-flight tasks; no retriever call starts afterwards', async () => {
    const tasks: RetrievalTask[] = [];
    const m = createMatcher({
      retriever: hangingRetriever(tasks),
      sectionSize: SIZE,
      workers: 3,
      batch: 1,
    });
    const sub = m.matchBits([[[1, 2, 3]], [[4]]], { fromBlock: 0, toBlock: 100 * SIZE }).subscribe();
    expect(tasks.length).toBe(3);
    expect(tasks.some((t) => t.signal.aborted)).toBe(false);
    sub.unsubscribe();
    expect(tasks.length).toBe(3);
    expect(tasks.every((t) => t.signal.aborted)).toBe(true);
    await new Promise((r) => setTimeout(r, 5));
    expect(tasks.length).toBe(3);
  });

  it('unsubscribing one of two queries keeps the other running and exact', async () => {
    const counting = new CountingRetriever(delayedRetriever(world, SIZE, 5));
    const m = createMatcher({ retriever: counting.retriever, sectionSize: SIZE, workers: 2, batch: 1 });
    const groups: Groups = [[[1, 2, 3]]];
    const sub = m.matchBits(groups, { fromBlock: 0, toBlock: 3000 }).subscribe();
    const other = collect(m.matchBits(groups, { fromBlock: 100, toBlock: 2500 }));
    sub.unsubscribe();
    expect(await other).toEqual(oracle(world, groups, 100, 2500));
  });
});

describe('matcher: errors', () => {
  const failing = (cause: unknown, failBit: number, others: 'never' | 'slow'): Retriever => {
    return (task) => {
      if (task.bit === failBit) return Promise.reject(cause);
      if (others === 'never') return NEVER;
      return new Promise((r) =>
        setTimeout(() => r(task.sections.map((s) => vectorOf(world, task.bit, s, SIZE))), 3),
      );
    };
  };

  it.each(['never', 'slow'] as const)(
    'a rejected retrieval ends the query with a RetrievalError (others %s)',
    async (others) => {
      const cause = new Error('io');
      const signals: AbortSignal[] = [];
      const tasks: RetrievalTask[] = [];
      const inner = failing(cause, 2, others);
      const m = createMatcher({
        retriever: (t) => {
          tasks.push(t);
          signals.push(t.signal);
          return inner(t);
        },
        sectionSize: SIZE,
        workers: 4,
        batch: 2,
      });
      const error = await collect(m.matchBits([[[1, 2, 3]]], { fromBlock: 0, toBlock: 10 * SIZE })).catch(
        (e) => e,
      );
      expect(error).toBeInstanceOf(RetrievalError);
      expect(error.bit).toBe(2);
      expect(error.sections).toEqual([0, 1]);
      expect(error.cause).toBe(cause);
      // Tasks still waiting are aborted; the one that answered (with the error) is not.
      const failed = tasks.findIndex((t) => t.bit === 2 && t.sections.join() === '0,1');
      expect(signals[failed]!.aborted).toBe(false);
      if (others === 'never') expect(signals.every((s, i) => s.aborted || i === failed)).toBe(true);
    },
  );

  it('a synchronous throw, an empty Observable and a bad answer all end the query with RetrievalError', async () => {
    const retrievers: Retriever[] = [
      () => {
        throw new Error('sync');
      },
      () => new Observable((s) => s.complete()),
      () => Promise.resolve([]),
      () => Promise.resolve('nope' as never),
    ];
    for (const retriever of retrievers) {
      const m = createMatcher({ retriever, sectionSize: SIZE });
      const error = await collect(m.matchBits([[[1, 2, 3]]], { fromBlock: 0, toBlock: 300 })).catch((e) => e);
      expect(error).toBeInstanceOf(RetrievalError);
      expect(error.sections).toEqual([0, 1, 2, 3, 4]);
    }
  });

  it('invalid filters and ranges error with typed errors before any retrieval', async () => {
    let calls = 0;
    const m = createMatcher({
      retriever: () => {
        calls++;
        return NEVER;
      },
      sectionSize: SIZE,
    });
    const T = `0x${'ab'.repeat(32)}` as const;
    const badFilters = [
      { address: `0x${'11'.repeat(19)}` },
      { address: [`0x${'11'.repeat(20)}`, `0x${'11'.repeat(21)}`] },
      { topics: [`0x${'ab'.repeat(31)}`] },
      { topics: [T, T, T, T, T] },
      { topics: [null, [T, 'xyz']] },
    ];
    for (const f of badFilters) {
      await expect(collect(m.match(f as never, { fromBlock: 0, toBlock: 10 }))).rejects.toBeInstanceOf(
        InvalidFilterError,
      );
    }
    const badRanges = [
      { fromBlock: 10, toBlock: 9 },
      { fromBlock: -1, toBlock: 9 },
      { fromBlock: 0, toBlock: 1.5 },
      { fromBlock: 0.5, toBlock: 9 },
      { fromBlock: 0, toBlock: 'latest' },
      { fromBlock: 0, toBlock: Number.NaN },
      { fromBlock: -1n, toBlock: 2 },
    ];
    for (const r of badRanges) {
      await expect(collect(m.matchBits([[[1, 2, 3]]], r as never))).rejects.toBeInstanceOf(InvalidRangeError);
      await expect(collect(m.match({ topics: [T] }, r as never))).rejects.toBeInstanceOf(InvalidRangeError);
      // zero groups still validates the range
      await expect(collect(m.match({}, r as never))).rejects.toBeInstanceOf(InvalidRangeError);
    }
    await expect(collect(m.matchBits([[[1, 2, 3.5]]], { fromBlock: 0, toBlock: 1 }))).rejects.toBeInstanceOf(
      InvalidFilterError,
    );
    await expect(collect(m.matchBits([[[]]], { fromBlock: 0, toBlock: 1 }))).rejects.toBeInstanceOf(
      InvalidFilterError,
    );
    expect(calls).toBe(0);
  });

  it('zero groups: every block in range, no retrieval; accepts bigint, hex and earliest', async () => {
    let calls = 0;
    const m = createMatcher({
      retriever: () => {
        calls++;
        return NEVER;
      },
      sectionSize: SIZE,
    });
    expect(
      await collect(
        m.match({ address: [], topics: [null, [T0(), null]] }, { fromBlock: 5n, toBlock: '0x9' }),
      ),
    ).toEqual([5, 6, 7, 8, 9]);
    expect(await collect(m.matchBits([], { fromBlock: 'earliest', toBlock: 2 }))).toEqual([0, 1, 2]);
    expect(calls).toBe(0);
  });
});

function T0() {
  return `0x${'00'.repeat(32)}` as const;
}
