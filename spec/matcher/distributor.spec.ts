import { Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import {
  type DistributorEvent,
  type DistributorOptions,
  type DistributorStep,
  distributor,
} from '../../src/matcher/distributor.js';

const req = (bit: number, ...sections: number[]): DistributorEvent => ({ type: 'request', bit, sections });
const cancel = (bit: number, ...sections: number[]): DistributorEvent => ({ type: 'cancel', bit, sections });
const done = (id: number, bit: number, ...requeue: number[]): DistributorEvent => ({
  type: 'done',
  id,
  bit,
  requeue,
});
const step = (start: [number, number, number[]][], wakeAt?: number): DistributorStep => ({
  start: start.map(([id, bit, sections]) => ({ id, bit, sections })),
  wakeAt,
});
const none = step([]);

describe('distributor', () => {
  let ts: TestScheduler;
  beforeEach(() => {
    ts = new TestScheduler((a, e) => expect(a).toEqual(e));
  });
  const opts = (o: Partial<DistributorOptions>): DistributorOptions => ({
    workers: 1,
    batch: 16,
    wait: 0,
    now: () => ts.now(),
    ...o,
  });

  it('hands the bit with the lowest pending section first, at most `batch` sections per task', () => {
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-a-b-c-d-e|', {
        a: req(5, 2, 0, 1),
        b: req(9, 0),
        c: done(0, 5),
        d: done(1, 9),
        e: done(2, 5),
      });
      expectObservable(events.pipe(distributor(opts({ workers: 1, batch: 2 })))).toBe('-a-b-c-d-e|', {
        a: step([[0, 5, [0, 1]]]),
        b: none, // no idle worker
        c: step([[1, 9, [0]]]), // 9:0 is lower than 5:2
        d: step([[2, 5, [2]]]),
        e: none,
      });
    });
  });

  it('keeps queues sorted and dedups sections; ties go to the lower bit', () => {
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-a-b-c-d-e-f-|', {
        a: req(7, 100), // worker busy with 7:100
        b: req(3, 9, 4, 4, 6),
        c: req(2, 6, 4),
        d: done(0, 7),
        e: done(1, 2),
        f: done(2, 3),
      });
      expectObservable(events.pipe(distributor(opts({ workers: 1, batch: 3 })))).toBe('-a-b-c-d-e-f-|', {
        a: step([[0, 7, [100]]]),
        b: none,
        c: none,
        d: step([[1, 2, [4, 6]]]),
        e: step([[2, 3, [4, 6, 9]]]),
        f: none,
      });
    });
  });

  it('never has more than `workers` tasks in flight', () => {
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-a--b--c-|', {
        a: req(1, 0, 1, 2, 3, 4, 5, 6),
        b: done(1, 1),
        c: done(0, 1),
      });
      expectObservable(events.pipe(distributor(opts({ workers: 2, batch: 2 })))).toBe('-a--b--c-|', {
        a: step([
          [0, 1, [0, 1]],
          [1, 1, [2, 3]],
        ]),
        b: step([[2, 1, [4, 5]]]),
        c: step([[3, 1, [6]]]),
      });
    });
  });

  it('requeues the sections a done event lists, in order with the rest', () => {
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-a-b-c-|', {
        a: req(4, 1, 2),
        b: req(4, 5),
        c: done(0, 4, 2), // section 2 came back missing
      });
      expectObservable(events.pipe(distributor(opts({ workers: 1, batch: 2 })))).toBe('-a-b-c-|', {
        a: step([[0, 4, [1, 2]]]),
        b: none,
        c: step([[1, 4, [2, 5]]]),
      });
    });
  });

  it('drops cancelled sections that are still queued', () => {
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-a-b-c-d|', {
        a: req(1, 0),
        b: req(2, 3, 4, 5),
        c: cancel(2, 3, 5, 99),
        d: done(0, 1),
      });
      expectObservable(events.pipe(distributor(opts({ workers: 1 })))).toBe('-a-b-c-d|', {
        a: step([[0, 1, [0]]]),
        b: none,
        c: none,
        d: step([[1, 2, [4]]]),
      });
    });
  });

  it('a fully cancelled bit hands out nothing', () => {
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-a-b-c|', { a: req(1, 0), b: req(2, 3), c: cancel(2, 3) });
      const steps = events.pipe(distributor(opts({ workers: 1 })));
      expectObservable(steps).toBe('-a-b-c|', { a: step([[0, 1, [0]]]), b: none, c: none });
    });
  });

  it('`wait` holds a partial batch until it is due, a full batch goes at once', () => {
    ts.run(({ hot, expectObservable }) => {
      // t=1: partial 1:[0] held until 1+5 = 6; t=2: bit 2 fills a batch of 3 and goes;
      // t=6: tick releases bit 1.
      const events = hot('-a-b---t-|', {
        a: req(1, 0),
        b: req(2, 7, 8, 9),
        t: { type: 'tick', now: 6 } as DistributorEvent,
      });
      expectObservable(events.pipe(distributor(opts({ workers: 4, batch: 3, wait: 5 })))).toBe('-a-b---t-|', {
        a: step([], 6),
        b: step([[0, 2, [7, 8, 9]]], 6),
        t: step([[1, 1, [0]]]),
      });
    });
  });

  it('`wait`: a tick before the due time hands out nothing; more sections complete the batch', () => {
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-a-t-b-|', {
        a: req(1, 0, 1),
        t: { type: 'tick', now: 3 } as DistributorEvent,
        b: req(1, 2),
      });
      expectObservable(events.pipe(distributor(opts({ workers: 4, batch: 3, wait: 10 })))).toBe('-a-t-b-|', {
        a: step([], 11),
        t: step([], 11),
        b: step([[0, 1, [0, 1, 2]]]),
      });
    });
  });

  it('`wait`: no wake-up is asked for while every worker is busy', () => {
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-a-b-c|', { a: req(1, 0, 1), b: req(2, 0), c: done(0, 1) });
      expectObservable(events.pipe(distributor(opts({ workers: 1, batch: 2, wait: 4 })))).toBe('-a-b-c|', {
        a: step([[0, 1, [0, 1]]]),
        b: none,
        c: step([], 7),
      });
    });
  });

  it('state is per subscription; errors and unsubscription pass through', () => {
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const events = cold('-a-#', { a: req(1, 0) }, new Error('boom'));
      const d = events.pipe(distributor(opts({ workers: 1 })));
      expectObservable(d).toBe('-a-#', { a: step([[0, 1, [0]]]) }, new Error('boom'));
      // Second subscription starts over with id 0 and an idle worker.
      expectObservable(d, '^-!').toBe('-a-', { a: step([[0, 1, [0]]]) });
      expectSubscriptions(events.subscriptions).toBe(['^--!', '^-!']);
    });
  });

  it('events emitted synchronously from inside a step are trampolined, not recursed', () => {
    ts.run(({ expectObservable }) => {
      const events = new Subject<DistributorEvent>();
      const seen: string[] = [];
      let depth = 0;
      let maxDepth = 0;
      const steps = events.pipe(distributor(opts({ workers: 1, batch: 1 })));
      steps.subscribe((s) => {
        depth++;
        maxDepth = Math.max(maxDepth, depth);
        for (const t of s.start) {
          seen.push(`${t.bit}:${t.sections.join(',')}`);
          // a synchronous "retriever": done right away
          events.next(done(t.id, t.bit));
        }
        depth--;
      });
      events.next(req(1, 0, 1, 2));
      expect(seen).toEqual(['1:0', '1:1', '1:2']);
      expect(maxDepth).toBe(1);
      expectObservable(steps, '^!').toBe('-');
    });
  });
});
