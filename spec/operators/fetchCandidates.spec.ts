import fc from 'fast-check';
import { defer, finalize, from, NEVER, Observable, of, Subject, take } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { InvalidOptionError } from '../../src/errors.js';
import { fetchCandidates } from '../../src/operators/fetchCandidates.js';
import { settle } from './settle.js';

/**
 * A pull-driven producer like the matcher's: emits `lookahead` iterables, then one
 * per credit; counts how many it emitted and how many credits came back.
 */
function producer(iterables: Iterable<Iterable<number>>, lookahead: number) {
  const stats = { emitted: 0, credits: 0 };
  const batches = (credits$: Observable<void>) =>
    new Observable<Iterable<number>>((subscriber) => {
      const it = iterables[Symbol.iterator]();
      let credit = lookahead;
      let emitting = false;
      const drain = () => {
        if (emitting) return;
        emitting = true;
        while (credit > 0 && !subscriber.closed) {
          const next = it.next();
          if (next.done) {
            subscriber.complete();
            break;
          }
          credit--;
          stats.emitted++;
          subscriber.next(next.value);
        }
        emitting = false;
      };
      const sub = credits$.subscribe(() => {
        stats.credits++;
        credit++;
        drain();
      });
      drain();
      return sub;
    });
  return { stats, batches };
}

function* blocks(from: number, to: number) {
  for (let n = from; n < to; n++) yield n;
}

describe('fetchCandidates (marbles)', () => {
  let ts: TestScheduler;
  beforeEach(() => {
    ts = new TestScheduler((a, e) => expect(a).toEqual(e));
  });

  it('fetches in block order, `concurrency` at a time, one credit per batch fully taken', () => {
    ts.run(({ cold, hot, expectObservable }) => {
      const credits: number[] = [];
      const source = hot('a---b|', { a: [1, 2], b: [3] });
      const batches = (credits$: Observable<void>) => {
        credits$.subscribe(() => credits.push(ts.now()));
        return source;
      };
      const fetch = (n: number) => cold('--N|', { N: n * 10 });
      // 1 and 2 start at 0; batch a is seen empty when 1's slot frees (frame 3)
      // 2 waits for 1 (frame 3), when a is seen used up; b is used up as soon as 3 starts
      expectObservable(fetchCandidates(batches, fetch, 2)).toBe('--xy--z|', { x: 10, y: 20, z: 30 });
      ts.flush();
      expect(credits).toEqual([3, 4]);
    });
  });

  it('a fetch error ends the stream and cancels the other fetches', () => {
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const slow = cold('-----S|');
      const failing = cold('--#');
      const fetch = (n: number) => (n === 1 ? slow : failing);
      expectObservable(fetchCandidates(() => of([1, 2]), fetch, 2)).toBe('--#');
      expectSubscriptions(slow.subscriptions).toBe('^-!');
    });
  });

  it('a producer error ends the stream', () => {
    ts.run(({ cold, hot, expectObservable }) => {
      const source = hot('a-#', { a: [1] });
      expectObservable(
        fetchCandidates(
          () => source,
          () => cold('----N|'),
          2,
        ),
      ).toBe('--#');
    });
  });
});

describe('fetchCandidates', () => {
  it('a throwing fetch errors the stream', async () => {
    const boom = new Error('boom');
    const { values, error } = await settle(
      fetchCandidates(
        () => of([1, 2, 3]),
        (n) => {
          if (n === 2) throw boom;
          return of(n);
        },
        1,
      ),
      1000,
    );
    expect(values).toEqual([1]);
    expect(error).toBe(boom);
  });

  it('a throwing iterator errors the stream', async () => {
    const boom = new Error('iterator');
    function* bad() {
      yield 1;
      throw boom;
    }
    const { values, error } = await settle(
      fetchCandidates(
        () => of(bad()),
        (n) => of(n),
        2,
      ),
      1000,
    );
    expect(values).toEqual([1]);
    expect(error).toBe(boom);
  });

  it.each([0, -1, Number.NaN, 2.5])('concurrency %p fails with InvalidOptionError', (concurrency) => {
    let error: unknown;
    fetchCandidates(
      () => of([1]),
      (n) => of(n),
      concurrency,
    ).subscribe({ error: (e) => (error = e) });
    expect(error).toBeInstanceOf(InvalidOptionError);
  });

  it('unsubscribing cancels in-flight fetches, the producer and the open iterator', () => {
    let cancelled = 0;
    let closed = false;
    let producerLeft = false;
    function* batch() {
      try {
        yield* blocks(0, 10);
      } finally {
        closed = true;
      }
    }
    const sub = fetchCandidates(
      () =>
        new Observable<Iterable<number>>((s) => {
          s.next(batch());
          return () => (producerLeft = true);
        }),
      () => NEVER.pipe(finalize(() => cancelled++)),
      3,
    ).subscribe();
    sub.unsubscribe();
    expect(cancelled).toBe(3);
    expect(closed).toBe(true);
    expect(producerLeft).toBe(true);
  });

  it('20M candidates stream with a bounded number of blocks pulled ahead (counted, not timed)', async () => {
    const concurrency = 4;
    const lookahead = 3;
    let pulled = 0;
    let maxAhead = 0;
    let maxBatchesAhead = 0;
    let emitted = 0;
    function* counted(from: number, to: number) {
      for (let n = from; n < to; n++) {
        pulled++;
        maxAhead = Math.max(maxAhead, pulled - emitted);
        yield n;
      }
    }
    // 20 batches of 1M candidates: only the first 300k are fetched
    const batches = Array.from({ length: 20 }, (_, i) => counted(i * 1_000_000, (i + 1) * 1_000_000));
    const p = producer(batches, lookahead);
    const { values, error } = await settle(
      new Observable<number>((subscriber) =>
        fetchCandidates(p.batches, (n) => (n % 3 === 0 ? from(Promise.resolve(n)) : of(n)), concurrency)
          .pipe(take(300_000))
          .subscribe({
            next: (n) => {
              emitted++;
              maxBatchesAhead = Math.max(maxBatchesAhead, p.stats.emitted - p.stats.credits);
              subscriber.next(n);
            },
            error: (e) => subscriber.error(e),
            complete: () => subscriber.complete(),
          }),
      ),
    );
    expect(error).toBeUndefined();
    expect(values.length).toBe(300_000);
    expect(values[299_999]).toBe(299_999);
    expect(maxAhead).toBeLessThanOrEqual(concurrency);
    expect(pulled).toBeLessThanOrEqual(300_000 + concurrency);
    expect(maxBatchesAhead).toBeLessThanOrEqual(lookahead);
  });

  it('property: every candidate fetched once, in order, sync or async fetch (100k+ candidates)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 20_000 }), { minLength: 0, maxLength: 6 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 4 }),
        fc.constantFrom('sync', 'async', 'mixed'),
        async (sizes, concurrency, lookahead, mode) => {
          let next = 0;
          const expected: number[] = [];
          const iterables = sizes.map((size) => {
            const batch = Array.from({ length: size }, () => (next += 1 + (next % 5)));
            for (const n of batch) expected.push(n);
            return batch;
          });
          const p = producer(iterables, lookahead);
          let credits = 0;
          const batches = (credits$: Observable<void>) => {
            credits$.subscribe(() => credits++);
            return p.batches(credits$);
          };
          const fetch = (n: number) =>
            mode === 'sync' || (mode === 'mixed' && n % 2 === 0)
              ? of(`b${n}`)
              : defer(() => Promise.resolve(`b${n}`));
          const { values, error } = await settle(fetchCandidates(batches, fetch, concurrency));
          expect(error).toBeUndefined();
          expect(values).toEqual(expected.map((n) => `b${n}`));
          expect(credits).toBe(iterables.length);
        },
      ),
      {
        numRuns: 12,
        seed: 11,
        examples: [
          [[150_000], 2, 1, 'sync'],
          [[120_000, 0, 3], 3, 2, 'async'],
        ],
      },
    );
  });

  it('a producer that emits synchronously from a credit does not recurse (200k single-block batches)', async () => {
    const n = 200_000;
    const p = producer(
      (function* () {
        for (let i = 0; i < n; i++) yield [i];
      })(),
      1,
    );
    const { values, error } = await settle(fetchCandidates(p.batches, (b) => of(b), 1));
    expect(error).toBeUndefined();
    expect(values.length).toBe(n);
  });

  it('fetch errors from a Subject reach the subscriber', async () => {
    const s = new Subject<number>();
    const out = settle(
      fetchCandidates(
        () => of([1]),
        () => s,
        1,
      ),
      1000,
    );
    s.error(new Error('late'));
    expect((await out).error).toEqual(new Error('late'));
  });
});
