import { catchError, concat, type Observable, of, throwError } from 'rxjs';
import type { ColdObservable } from 'rxjs/internal/testing/ColdObservable';
import { TestScheduler } from 'rxjs/testing';
import { InvalidFilterError, InvalidRangeError, RetrievalError } from '../../src/errors.js';
import { createMatcher } from '../../src/matcher/matcher.js';
import type { RetrievalTask } from '../../src/matcher/types.js';
import { modWorld, vectorOf } from './helpers.js';

const SIZE = 8; // one byte per vector

/** Maps an error to plain data so marbles can compare it. */
const describeError = (e: unknown) =>
  e instanceof RetrievalError
    ? { name: e.name, bit: e.bit, sections: [...e.sections], cause: (e.cause as Error).message }
    : { name: (e as Error).name };

const errorAsValue = <T>(source: Observable<T>) =>
  source.pipe(catchError((e) => of({ error: describeError(e) })));

describe('matcher (marbles)', () => {
  let ts: TestScheduler;
  beforeEach(() => {
    ts = new TestScheduler((a, e) => expect(a).toEqual(e));
  });

  /** A retriever answering `marble` with the modWorld vectors; records tasks and the cold observables. */
  const makeRetriever = (cold: TestScheduler['createColdObservable'], marble = '--a|') => {
    const tasks: RetrievalTask[] = [];
    const colds: ColdObservable<(Uint8Array | undefined)[]>[] = [];
    const retriever = (task: RetrievalTask) => {
      tasks.push(task);
      const c = cold(marble, { a: task.sections.map((s) => vectorOf(modWorld, task.bit, s, SIZE)) });
      colds.push(c as ColdObservable<(Uint8Array | undefined)[]>);
      return c;
    };
    return { tasks, colds, retriever };
  };

  it('one clause: every block with all three bits, ascending, once retrieval answers', () => {
    ts.run(({ cold, expectObservable }) => {
      const r = makeRetriever(cold.bind(ts) as never);
      const m = createMatcher({ retriever: r.retriever, sectionSize: SIZE });
      // n%2, n%3, n%4 → n%12
      expectObservable(m.matchBits([[[0, 1, 2]]], { fromBlock: 0, toBlock: 40 })).toBe('--(abcd|)', {
        a: 0,
        b: 12,
        c: 24,
        d: 36,
      });
      ts.flush();
      expect(r.tasks.map((t) => [t.bit, t.sections])).toEqual([
        [0, [0, 1, 2, 3, 4, 5]],
        [1, [0, 1, 2, 3, 4, 5]],
        [2, [0, 1, 2, 3, 4, 5]],
      ]);
    });
  });

  it('workers = 1 runs the three bit tasks one after another', () => {
    ts.run(({ cold, expectObservable }) => {
      const r = makeRetriever(cold.bind(ts) as never);
      const m = createMatcher({ retriever: r.retriever, sectionSize: SIZE, workers: 1 });
      expectObservable(m.matchBits([[[0, 1, 2]]], { fromBlock: 0, toBlock: 7 })).toBe('------(a|)', { a: 0 });
    });
  });

  it('groups are a daisy chain: group 1 asks after group 0 answered', () => {
    ts.run(({ cold, expectObservable }) => {
      const r = makeRetriever(cold.bind(ts) as never);
      const m = createMatcher({ retriever: r.retriever, sectionSize: SIZE });
      expectObservable(m.matchBits([[[0]], [[1]]], { fromBlock: 0, toBlock: 7 })).toBe('----(ab|)', {
        a: 0,
        b: 6,
      });
    });
  });

  it('`wait` holds a partial task on the given scheduler', () => {
    ts.run(({ cold, expectObservable }) => {
      const r = makeRetriever(cold.bind(ts) as never);
      const m = createMatcher({
        retriever: r.retriever,
        sectionSize: SIZE,
        wait: 3,
        batch: 4,
        scheduler: ts,
      });
      expectObservable(m.matchBits([[[4]]], { fromBlock: 0, toBlock: 7 })).toBe('-----(ab|)', { a: 0, b: 6 });
    });
  });

  it('missing entries are asked for again', () => {
    ts.run(({ cold, expectObservable }) => {
      let first = true;
      const tasks: number[][] = [];
      const retriever = (task: RetrievalTask) => {
        tasks.push([task.bit, ...task.sections]);
        const missing = first;
        first = false;
        return cold('--a|', {
          a: task.sections.map((s) =>
            missing && s === 1 ? undefined : vectorOf(modWorld, task.bit, s, SIZE),
          ),
        });
      };
      const m = createMatcher({ retriever, sectionSize: SIZE });
      // section 1 answered missing at frame 2, asked again after a 1 ms backoff, answered at 5
      expectObservable(m.matchBits([[[4]]], { fromBlock: 0, toBlock: 15 })).toBe('-----(abc|)', {
        a: 0,
        b: 6,
        c: 12,
      });
      ts.flush();
      expect(tasks).toEqual([
        [4, 0, 1],
        [4, 1],
      ]);
    });
  });

  it('re-subscribing re-fetches nothing still cached', () => {
    ts.run(({ cold, expectObservable }) => {
      const r = makeRetriever(cold.bind(ts) as never);
      const m = createMatcher({ retriever: r.retriever, sectionSize: SIZE });
      const q = m.matchBits([[[0, 1, 2]]], { fromBlock: 0, toBlock: 30 });
      expectObservable(concat(q, q)).toBe('--(abcabc|)', { a: 0, b: 12, c: 24 });
      ts.flush();
      expect(r.tasks.length).toBe(3);
    });
  });

  it('a retriever error ends the query with a RetrievalError (bit, sections, cause), aborting other tasks', () => {
    ts.run(({ cold, expectObservable }) => {
      const colds: Record<number, ColdObservable<unknown>> = {};
      const signals: AbortSignal[] = [];
      const retriever = (task: RetrievalTask): Observable<Uint8Array[]> => {
        signals.push(task.signal);
        const c =
          task.bit === 1
            ? cold<Uint8Array[]>('---#', undefined, new Error('disk on fire'))
            : cold('------a|', { a: task.sections.map((s) => vectorOf(modWorld, task.bit, s, SIZE)) });
        colds[task.bit] = c as ColdObservable<unknown>;
        return c;
      };
      const m = createMatcher({ retriever, sectionSize: SIZE });
      expectObservable(errorAsValue(m.matchBits([[[0, 1, 2]]], { fromBlock: 0, toBlock: 20 }))).toBe(
        '---(e|)',
        {
          e: { error: { name: 'RetrievalError', bit: 1, sections: [0, 1, 2], cause: 'disk on fire' } },
        },
      );
      ts.flush();
      // The other tasks are unsubscribed at the error (frame 3), not left running.
      expect(colds[0]!.subscriptions).toEqual([{ subscribedFrame: 0, unsubscribedFrame: 3 }]);
      expect(colds[2]!.subscriptions).toEqual([{ subscribedFrame: 0, unsubscribedFrame: 3 }]);
      // Tasks still waiting are aborted; the one that answered (with the error) is not.
      expect(signals.map((s) => s.aborted)).toEqual([true, false, true]);
    });
  });

  it('a retriever that throws synchronously ends the query at once', () => {
    ts.run(({ expectObservable }) => {
      const m = createMatcher({
        retriever: () => {
          throw new Error('sync');
        },
        sectionSize: SIZE,
      });
      expectObservable(errorAsValue(m.matchBits([[[3]]], { fromBlock: 0, toBlock: 9 }))).toBe('(e|)', {
        e: { error: { name: 'RetrievalError', bit: 3, sections: [0, 1], cause: 'sync' } },
      });
    });
  });

  it('a retriever Observable that completes without an answer is an error, not a hang', () => {
    ts.run(({ cold, expectObservable }) => {
      const m = createMatcher({ retriever: () => cold('--|'), sectionSize: SIZE });
      expectObservable(errorAsValue(m.matchBits([[[3]]], { fromBlock: 0, toBlock: 3 }))).toBe('--(e|)', {
        e: {
          error: {
            name: 'RetrievalError',
            bit: 3,
            sections: [0],
            cause: 'retriever completed without an answer',
          },
        },
      });
    });
  });

  it('a retriever answer of the wrong shape is a RetrievalError', () => {
    ts.run(({ cold, expectObservable }) => {
      const m = createMatcher({
        retriever: () => cold('-a|', { a: [new Uint8Array(3)] }),
        sectionSize: SIZE,
      });
      expectObservable(errorAsValue(m.matchBits([[[3]]], { fromBlock: 0, toBlock: 3 }))).toBe('-(e|)', {
        e: {
          error: {
            name: 'RetrievalError',
            bit: 3,
            sections: [0],
            cause: 'retriever answered a vector of 3 bytes, expected 1',
          },
        },
      });
    });
  });

  it('explicit unsubscription aborts in-flight tasks; nothing starts afterwards', () => {
    ts.run(({ cold, expectObservable }) => {
      const r = makeRetriever(cold.bind(ts) as never, '-----a|');
      const m = createMatcher({ retriever: r.retriever, sectionSize: SIZE, workers: 2, batch: 1 });
      expectObservable(m.matchBits([[[0, 1, 2]]], { fromBlock: 0, toBlock: 31 }), '^--!').toBe('----');
      ts.flush();
      expect(r.tasks.length).toBe(2);
      expect(r.tasks.every((t) => t.signal.aborted)).toBe(true);
      for (const c of r.colds)
        expect(c.subscriptions).toEqual([{ subscribedFrame: 0, unsubscribedFrame: 3 }]);
    });
  });

  it('invalid input errors synchronously at subscribe, before any retrieval', () => {
    ts.run(({ expectObservable }) => {
      let calls = 0;
      const m = createMatcher({
        retriever: () => {
          calls++;
          return throwError(() => new Error('x'));
        },
        sectionSize: SIZE,
      });
      expectObservable(errorAsValue(m.matchBits([[[1]]], { fromBlock: 5, toBlock: 4 }))).toBe('(e|)', {
        e: { error: { name: InvalidRangeError.name } },
      });
      expectObservable(errorAsValue(m.matchBits([[[2048]]], { fromBlock: 0, toBlock: 4 }))).toBe('(e|)', {
        e: { error: { name: InvalidFilterError.name } },
      });
      expectObservable(errorAsValue(m.match({ address: '0x12' }, { fromBlock: 0, toBlock: 4 }))).toBe(
        '(e|)',
        {
          e: { error: { name: InvalidFilterError.name } },
        },
      );
      ts.flush();
      expect(calls).toBe(0);
    });
  });

  it('zero groups: every block in range, synchronously, no retrieval', () => {
    ts.run(({ expectObservable }) => {
      const m = createMatcher({
        retriever: () => {
          throw new Error('must not be called');
        },
        sectionSize: SIZE,
      });
      expectObservable(m.match({ topics: [null, [], null] }, { fromBlock: 3, toBlock: 6 })).toBe('(abcd|)', {
        a: 3,
        b: 4,
        c: 5,
        d: 6,
      });
    });
  });
});
