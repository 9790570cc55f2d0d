import fc from 'fast-check';
import { defer, EMPTY, finalize, from, NEVER, type Observable, of, range } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { InvalidOptionError } from '../../src/errors.js';
import { concatMapEager } from '../../src/operators/concatMapEager.js';
import { settle } from './settle.js';

const iota = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('concatMapEager (marbles)', () => {
  let ts: TestScheduler;
  beforeEach(() => {
    ts = new TestScheduler((a, e) => expect(a).toEqual(e));
  });

  it('runs up to `concurrency` inners at once and emits in source order', () => {
    ts.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-a-b-c|');
      const inners = { a: cold('---A|'), b: cold('-B|'), c: cold('--C|') };
      // a and b run together; B waits for a; c starts when a retires at frame 5
      expectObservable(source.pipe(concatMapEager((k) => inners[k as 'a' | 'b' | 'c'], 2))).toBe('----AB-C|');
      expectSubscriptions(inners.a.subscriptions).toBe('-^---!');
      expectSubscriptions(inners.b.subscriptions).toBe('---^-!');
      expectSubscriptions(inners.c.subscriptions).toBe('-----^--!');
    });
  });

  it('a finished inner keeps its slot until the ones before it are out', () => {
    ts.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const source = hot('(abc)|');
      const inners = { a: cold('-----A|'), b: cold('B|'), c: cold('-C|') };
      // b finished at once but holds the second slot until a is done: c starts at frame 6
      expectObservable(source.pipe(concatMapEager((k) => inners[k as 'a' | 'b' | 'c'], 2))).toBe('-----ABC|');
      expectSubscriptions(inners.c.subscriptions).toBe('------^-!');
    });
  });

  it('an inner error ends the stream and unsubscribes the other inners', () => {
    ts.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const source = hot('ab|');
      const a = cold('----A|');
      const b = cold('--#');
      expectObservable(source.pipe(concatMapEager((k) => (k === 'a' ? a : b), 2))).toBe('---#');
      expectSubscriptions(a.subscriptions).toBe('^--!');
    });
  });

  it('a source error ends the stream', () => {
    ts.run(({ cold, hot, expectObservable }) => {
      expectObservable(hot('a-#').pipe(concatMapEager(() => cold('---A|'), 2))).toBe('--#');
    });
  });
});

describe('concatMapEager', () => {
  it('a throwing project errors the stream (no unhandled error)', async () => {
    const boom = new Error('boom');
    const { values, error } = await settle(
      of(1, 2, 3).pipe(
        concatMapEager((x) => {
          if (x === 2) throw boom;
          return of(x);
        }, 2),
      ),
      1000,
    );
    expect(values).toEqual([1]);
    expect(error).toBe(boom);
  });

  it.each([0, -1, Number.NaN, 1.5, Number.POSITIVE_INFINITY])(
    'concurrency %p fails with InvalidOptionError',
    (concurrency) => {
      let error: unknown;
      of(1).subscribe({ error: (e) => (error = e) });
      of(1)
        .pipe(concatMapEager((x) => of(x), concurrency))
        .subscribe({ error: (e) => (error = e) });
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect((error as InvalidOptionError).option).toBe('concurrency');
    },
  );

  it('a backlog of 1M synchronous inners behind an async one completes in default stack', async () => {
    const n = 1_000_000;
    const out = settle(
      range(0, n).pipe(concatMapEager((x) => (x === 0 ? from(Promise.resolve(0)) : of(x)), 1)),
    );
    const { values, error } = await out;
    expect(error).toBeUndefined();
    expect(values.length).toBe(n);
    expect(values.every((v, i) => v === i)).toBe(true);
  });

  it('1M inners completing synchronously on subscribe, several at once', async () => {
    const n = 1_000_000;
    let sum = 0;
    let count = 0;
    let last = -1;
    let ordered = true;
    const { error } = await settle(
      range(0, n).pipe(concatMapEager((x) => (x % 1000 === 0 ? from(Promise.resolve(x)) : of(x)), 3)),
    ).then((r) => {
      for (const v of r.values) {
        ordered &&= v === last + 1;
        last = v;
        sum += v;
        count++;
      }
      return r;
    });
    expect(error).toBeUndefined();
    expect(count).toBe(n);
    expect(ordered).toBe(true);
    expect(sum).toBe((n * (n - 1)) / 2);
  });

  it('unsubscribing tears down every running inner', () => {
    let torn = 0;
    const sub = of(1, 2, 3)
      .pipe(concatMapEager(() => NEVER.pipe(finalize(() => torn++)), 2))
      .subscribe();
    expect(torn).toBe(0);
    sub.unsubscribe();
    expect(torn).toBe(2);
  });

  it('property: same values as a plain map, any mix of sync and async inners (100k items)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.constantFrom('sync', 'promise', 'multi', 'empty'), { minLength: 1, maxLength: 7 }),
        async (n, concurrency, pattern) => {
          const inner = (x: number): Observable<number> => {
            switch (pattern[x % pattern.length]) {
              case 'sync':
                return of(x);
              case 'promise':
                return from(Promise.resolve(x));
              case 'multi':
                return defer(() => from([x, -x]));
              default:
                return EMPTY;
            }
          };
          const expected = iota(n).flatMap((x) => {
            const kind = pattern[x % pattern.length];
            return kind === 'multi' ? [x, -x] : kind === 'empty' ? [] : [x];
          });
          const { values, error } = await settle(range(0, n).pipe(concatMapEager(inner, concurrency)));
          expect(error).toBeUndefined();
          expect(values).toEqual(expected);
        },
      ),
      { numRuns: 12, seed: 7 },
    );
  });
});
