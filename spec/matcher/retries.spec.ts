import { catchError, lastValueFrom, type Observable, of, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { InvalidOptionError, RetrievalError } from '../../src/errors.js';
import { createMatcher } from '../../src/matcher/matcher.js';
import type { RetrievalTask, Retriever } from '../../src/matcher/types.js';
import { modWorld, vectorOf } from './helpers.js';

const SIZE = 8;
const collect = (o: Observable<number>) => lastValueFrom(o.pipe(toArray()), { defaultValue: [] as number[] });
const missing: Retriever = (task) => of(task.sections.map(() => undefined));

describe('matcher: missing vectors back off and give up (marbles)', () => {
  let ts: TestScheduler;
  beforeEach(() => {
    ts = new TestScheduler((a, e) => expect(a).toEqual(e));
  });

  it('asks again after 1, 2, 4 … ms and fails with a RetrievalError after maxAttempts answers', () => {
    ts.run(({ expectObservable }) => {
      const asked: number[] = [];
      const retriever: Retriever = (task) => {
        asked.push(ts.now());
        return missing(task);
      };
      const m = createMatcher({ retriever, sectionSize: SIZE, maxAttempts: 5, scheduler: ts });
      const query = m
        .matchBits([[[4]]], { fromBlock: 0, toBlock: 7 })
        .pipe(catchError((e: RetrievalError) => of(`${e.name} ${e.bit} [${e.sections}]: ${e.message}`)));
      expectObservable(query).toBe('15ms (e|)', {
        e: 'RetrievalError 4 [0]: retrieval of bit 4 for sections [0] failed: vector still missing after 5 attempts',
      });
      ts.flush();
      expect(asked).toEqual([0, 1, 3, 7, 15]);
    });
  });

  it('unsubscribing during a backoff cancels it: no retriever call afterwards, no timer left', () => {
    ts.run(({ expectObservable }) => {
      const asked: number[] = [];
      const retriever: Retriever = (task) => {
        asked.push(ts.now());
        return missing(task);
      };
      const m = createMatcher({ retriever, sectionSize: SIZE, scheduler: ts });
      expectObservable(m.matchBits([[[4]]], { fromBlock: 0, toBlock: 7 }), '--!').toBe('---');
      ts.flush();
      expect(asked).toEqual([0, 1]);
      expect(ts.actions).toEqual([]);
    });
  });

  it('the backoff is capped at 1 s', () => {
    ts.run(() => {
      const asked: number[] = [];
      const retriever: Retriever = (task) => {
        asked.push(ts.now());
        return missing(task);
      };
      const m = createMatcher({ retriever, sectionSize: SIZE, maxAttempts: 14, scheduler: ts });
      m.matchBits([[[4]]], { fromBlock: 0, toBlock: 7 }).subscribe({ error: () => {} });
      ts.flush();
      const gaps = asked.slice(1).map((t, i) => t - asked[i]!);
      expect(gaps).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000, 1000, 1000]);
    });
  });

  it('a vector that shows up within the attempts is delivered', () => {
    ts.run(({ expectObservable }) => {
      let calls = 0;
      const retriever: Retriever = (task) =>
        ++calls < 4 ? missing(task) : of(task.sections.map((s) => vectorOf(modWorld, task.bit, s, SIZE)));
      const m = createMatcher({ retriever, sectionSize: SIZE, scheduler: ts });
      // asked at 0, 1, 3, 7
      expectObservable(m.matchBits([[[4]]], { fromBlock: 0, toBlock: 7 })).toBe('7ms (ab|)', { a: 0, b: 6 });
    });
  });
});

describe('matcher: missing vectors on the real clock', () => {
  it.each([
    ['synchronously', missing],
    ['from a resolved Promise', (task: RetrievalTask) => Promise.resolve(task.sections.map(() => undefined))],
  ])('a retriever answering "missing" %s fails the query instead of spinning', async (_, retriever) => {
    let calls = 0;
    const m = createMatcher({
      retriever: (t) => {
        calls++;
        return retriever(t);
      },
      sectionSize: SIZE,
      maxAttempts: 6,
    });
    const error = await collect(m.matchBits([[[4]]], { fromBlock: 0, toBlock: 15 })).catch((e) => e);
    expect(error).toBeInstanceOf(RetrievalError);
    expect(error.message).toMatch(/still missing after 6 attempts/);
    expect(calls).toBe(6);
  });

  it('a query on a retriever that always says "missing" can be unsubscribed', async () => {
    let calls = 0;
    const m = createMatcher({
      retriever: (t) => {
        calls++;
        return missing(t);
      },
      sectionSize: SIZE,
    });
    const sub = m.matchBits([[[4]]], { fromBlock: 0, toBlock: 15 }).subscribe();
    await new Promise((r) => setTimeout(r, 5));
    sub.unsubscribe();
    const after = calls;
    await new Promise((r) => setTimeout(r, 40));
    expect(calls).toBe(after);
    expect(after).toBeLessThan(10);
  });
});

describe('matcher: abort signals', () => {
  it('a task that answered never sees its signal aborted', async () => {
    const seen: { signal: AbortSignal; abortedAtAnswer: boolean }[] = [];
    const m = createMatcher({
      retriever: (task) => {
        const signal = task.signal;
        return new Promise((resolve) =>
          setTimeout(() => {
            seen.push({ signal, abortedAtAnswer: signal.aborted });
            resolve(task.sections.map((s) => vectorOf(modWorld, task.bit, s, SIZE)));
          }, 1),
        );
      },
      sectionSize: SIZE,
      batch: 2,
    });
    const blocks = await collect(m.matchBits([[[0, 1]], [[2]]], { fromBlock: 0, toBlock: 99 }));
    expect(blocks.length).toBeGreaterThan(0);
    expect(seen.length).toBeGreaterThan(10);
    await new Promise((r) => setTimeout(r, 5));
    expect(seen.filter((s) => s.abortedAtAnswer || s.signal.aborted)).toEqual([]);
  });

  it('a task still in flight when the consumer leaves is aborted', async () => {
    const signals: AbortSignal[] = [];
    const m = createMatcher({
      retriever: (task) => {
        signals.push(task.signal);
        return new Promise(() => {});
      },
      sectionSize: SIZE,
    });
    const sub = m.matchBits([[[3]]], { fromBlock: 0, toBlock: 99 }).subscribe();
    sub.unsubscribe();
    expect(signals.length).toBeGreaterThan(0);
    expect(signals.every((s) => s.aborted)).toBe(true);
  });
});

describe('createMatcher options', () => {
  it.each([
    ['sectionSize', { sectionSize: 12 }],
    ['sectionSize', { sectionSize: 0 }],
    ['workers', { workers: 0 }],
    ['batch', { batch: 1.5 }],
    ['lookahead', { lookahead: -1 }],
    ['maxAttempts', { maxAttempts: 0 }],
    ['wait', { wait: -1 }],
    ['cacheBytes', { cacheBytes: Number.NaN }],
    ['retriever', { retriever: 'nope' }],
  ])('a bad %s is an InvalidOptionError', (option, bad) => {
    let error: unknown;
    try {
      createMatcher({ retriever: missing, ...(bad as object) });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe(option);
  });
});
