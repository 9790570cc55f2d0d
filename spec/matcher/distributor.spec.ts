import fc from 'fast-check';
import { map, Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { RetrievalError } from '../../src/errors.js';
import {
  type DistributorEvent,
  type DistributorOptions,
  type DistributorStep,
  distributor,
} from '../../src/matcher/distributor.js';

const req = (bit: number, ...sections: number[]): DistributorEvent => ({ type: 'request', bit, sections });
const cancel = (bit: number, ...sections: number[]): DistributorEvent => ({ type: 'cancel', bit, sections });
/** An answer of task `id`: `shape` has one letter per section, `v` delivered, `-` missing. */
const answer = (id: number, shape: string): DistributorEvent => ({
  type: 'answer',
  id,
  vectors: [...shape].map((c, i) => (c === 'v' ? Uint8Array.of(i) : undefined)),
});
const aborted = (id: number): DistributorEvent => ({ type: 'aborted', id });
const failure = (id: number, error: unknown): DistributorEvent => ({ type: 'failure', id, error });
const tick = (now: number): DistributorEvent => ({ type: 'tick', now });

/**
 * A step in short: `0:5[0,1]` starts task 0 of bit 5, `abort 0`, `+5[0,1]` delivered,
 * `!5[2] message` failed, `@6` wake at 6; `.` for a step that decided nothing.
 */
function show(step: DistributorStep): string {
  const parts = step.start.map((t) => `${t.id}:${t.bit}[${t.sections}]`);
  for (const id of step.abort) parts.push(`abort ${id}`);
  const d = step.delivered;
  if (d) parts.push(`+${d.bit}[${d.sections.filter((_, i) => d.vectors[i] !== undefined)}]`);
  for (const f of step.failed) {
    expect(f.error).toBeInstanceOf(RetrievalError);
    expect([f.error.bit, f.error.sections]).toEqual([f.bit, f.sections]);
    parts.push(`!${f.bit}[${f.sections}] ${(f.error.cause as Error).message}`);
  }
  if (step.wakeAt !== undefined) parts.push(`@${step.wakeAt}`);
  return parts.length === 0 ? '.' : parts.join(' ');
}

describe('distributor (marbles)', () => {
  let ts: TestScheduler;
  beforeEach(() => {
    ts = new TestScheduler((a, e) => expect(a).toEqual(e));
  });
  const run = (o: Partial<DistributorOptions>) =>
    distributor({ workers: 1, batch: 16, wait: 0, maxAttempts: 10, now: () => ts.now(), ...o });
  const steps = (o: Partial<DistributorOptions>) => (events: import('rxjs').Observable<DistributorEvent>) =>
    events.pipe(run(o), map(show));

  it('hands the bit with the lowest pending section first, at most `batch` sections per task', () => {
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-a-b-c-d-e|', {
        a: req(5, 2, 0, 1),
        b: req(9, 0),
        c: answer(0, 'vv'),
        d: answer(1, 'v'),
        e: answer(2, 'v'),
      });
      expectObservable(events.pipe(steps({ workers: 1, batch: 2 }))).toBe('-a-b-c-d-e|', {
        a: '0:5[0,1]',
        b: '.', // no idle worker
        c: '1:9[0] +5[0,1]', // 9:0 is lower than 5:2
        d: '2:5[2] +9[0]',
        e: '+5[2]',
      });
    });
  });

  it('keeps queues sorted and dedups sections; ties go to the lower bit', () => {
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-a-b-c-d-e-f-|', {
        a: req(7, 100), // worker busy with 7:100
        b: req(3, 9, 4, 4, 6),
        c: req(2, 6, 4),
        d: answer(0, 'v'),
        e: answer(1, 'vv'),
        f: answer(2, 'vvv'),
      });
      expectObservable(events.pipe(steps({ workers: 1, batch: 3 }))).toBe('-a-b-c-d-e-f-|', {
        a: '0:7[100]',
        b: '.',
        c: '.',
        d: '1:2[4,6] +7[100]',
        e: '2:3[4,6,9] +2[4,6]',
        f: '+3[4,6,9]',
      });
    });
  });

  it('never has more than `workers` tasks in flight', () => {
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-a--b--c-|', {
        a: req(1, 0, 1, 2, 3, 4, 5, 6),
        b: answer(1, 'vv'),
        c: answer(0, 'vv'),
      });
      expectObservable(events.pipe(steps({ workers: 2, batch: 2 }))).toBe('-a--b--c-|', {
        a: '0:1[0,1] 1:1[2,3]',
        b: '2:1[4,5] +1[2,3]',
        c: '3:1[6] +1[0,1]',
      });
    });
  });

  it('a section already queued, in flight or backing off is not queued twice', () => {
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-a-b-c-d-e-|', {
        a: req(4, 1, 2),
        b: req(4, 1, 2, 3), // 1, 2 in flight
        c: answer(0, 'v-'), // 2 backs off until 6
        d: req(4, 2), // backing off
        e: answer(1, 'v'),
      });
      expectObservable(events.pipe(steps({ workers: 1, batch: 2 }))).toBe('-a-b-c-d-e-|', {
        a: '0:4[1,2]',
        b: '.',
        c: '1:4[3] +4[1] @6',
        d: '@6',
        e: '+4[3] @6',
      });
    });
  });

  it('missing sections back off 1, 2, 4 … ms, then rejoin the queue in order; after maxAttempts they fail', () => {
    ts.run(({ hot, expectObservable }) => {
      // 1: ask; 3: missing → due 4; 4: tick, ask; 6: missing → due 8; 8: tick, ask; 10: 3rd "missing" = maxAttempts
      const events = hot('-a-bt-c-d-e|', {
        a: req(4, 1, 2),
        b: answer(0, 'v-'),
        t: tick(4),
        c: answer(1, '-'),
        d: tick(8),
        e: answer(2, '-'),
      });
      expectObservable(events.pipe(steps({ workers: 1, batch: 2, maxAttempts: 3 }))).toBe('-a-bt-c-d-e|', {
        a: '0:4[1,2]',
        b: '+4[1] @4',
        t: '1:4[2]',
        c: '+4[] @8',
        d: '2:4[2]',
        e: '+4[] !4[2] vector still missing after 3 attempts',
      });
    });
  });

  it('drops cancelled sections that are still queued', () => {
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-a-b-c-d|', {
        a: req(1, 0),
        b: req(2, 3, 4, 5),
        c: cancel(2, 3, 5, 99),
        d: answer(0, 'v'),
      });
      expectObservable(events.pipe(steps({ workers: 1 }))).toBe('-a-b-c-d|', {
        a: '0:1[0]',
        b: '.',
        c: '.',
        d: '1:2[4] +1[0]',
      });
    });
  });

  it('a fully cancelled bit hands out nothing', () => {
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-a-b-c-d|', { a: req(1, 0), b: req(2, 3), c: cancel(2, 3), d: answer(0, 'v') });
      expectObservable(events.pipe(steps({ workers: 1 }))).toBe('-a-b-c-d|', {
        a: '0:1[0]',
        b: '.',
        c: '.',
        d: '+1[0]',
      });
    });
  });

  it('aborts an in-flight task once none of its sections is wanted; its worker is free only when it settles', () => {
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-a-b-c-d-e-|', {
        a: req(1, 0, 1),
        b: cancel(1, 0), // 1 still wanted
        c: cancel(1, 1),
        d: req(2, 0), // the worker is still busy with the aborted task
        e: aborted(0),
      });
      expectObservable(events.pipe(steps({ workers: 1 }))).toBe('-a-b-c-d-e-|', {
        a: '0:1[0,1]',
        b: '.',
        c: 'abort 0',
        d: '.',
        e: '1:2[0]',
      });
    });
  });

  it('an aborted task gives the sections wanted again straight back to the queue (no backoff)', () => {
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-a-b-c-d-|', {
        a: req(4, 1, 2),
        b: cancel(4, 1, 2),
        c: req(4, 2), // wanted again while the abort is under way: not queued twice, not aborted twice
        d: aborted(0),
      });
      expectObservable(events.pipe(steps({ workers: 1 }))).toBe('-a-b-c-d-|', {
        a: '0:4[1,2]',
        b: 'abort 0',
        c: '.',
        d: '1:4[2]',
      });
    });
  });

  it('a task that answered before its abort landed is a plain answer; cancelled missing sections are dropped', () => {
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-a-b-c-|', { a: req(3, 0, 1), b: cancel(3, 0, 1), c: answer(0, 'v-') });
      expectObservable(events.pipe(steps({ workers: 1 }))).toBe('-a-b-c-|', {
        a: '0:3[0,1]',
        b: 'abort 0',
        c: '+3[0]',
      });
    });
  });

  it('a failure fails every section of its task with a RetrievalError; they may be asked for again later', () => {
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-a-b-c-|', { a: req(6, 2, 3), b: failure(0, new Error('boom')), c: req(6, 3) });
      expectObservable(events.pipe(steps({ workers: 1 }))).toBe('-a-b-c-|', {
        a: '0:6[2,3]',
        b: '!6[2,3] boom',
        c: '1:6[3]',
      });
    });
  });

  it('cancelling a section that backs off drops it and its wake-up', () => {
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-a-b-c-d-|', { a: req(4, 1), b: answer(0, '-'), c: cancel(4, 1), d: tick(100) });
      expectObservable(events.pipe(steps({ workers: 1 }))).toBe('-a-b-c-d-|', {
        a: '0:4[1]',
        b: '+4[] @4',
        c: '.',
        d: '.',
      });
    });
  });

  it('`wait` holds a partial batch until it is due, a full batch goes at once', () => {
    ts.run(({ hot, expectObservable }) => {
      // t=1: partial 1:[0] held until 1+5 = 6; t=2: bit 2 fills a batch of 3 and goes; t=6: tick releases bit 1.
      const events = hot('-a-b---t-|', { a: req(1, 0), b: req(2, 7, 8, 9), t: tick(6) });
      expectObservable(events.pipe(steps({ workers: 4, batch: 3, wait: 5 }))).toBe('-a-b---t-|', {
        a: '@6',
        b: '0:2[7,8,9] @6',
        t: '1:1[0]',
      });
    });
  });

  it('`wait`: a tick before the due time hands out nothing; more sections complete the batch', () => {
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-a-t-b-|', { a: req(1, 0, 1), t: tick(3), b: req(1, 2) });
      expectObservable(events.pipe(steps({ workers: 4, batch: 3, wait: 10 }))).toBe('-a-t-b-|', {
        a: '@11',
        t: '@11',
        b: '0:1[0,1,2]',
      });
    });
  });

  it('`wait`: no wake-up is asked for while every worker is busy', () => {
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-a-b-c|', { a: req(1, 0, 1), b: req(2, 0), c: answer(0, 'vv') });
      expectObservable(events.pipe(steps({ workers: 1, batch: 2, wait: 4 }))).toBe('-a-b-c|', {
        a: '0:1[0,1]',
        b: '.',
        c: '+1[0,1] @7',
      });
    });
  });

  it('state is per subscription; errors and unsubscription pass through', () => {
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const events = cold('-a-#', { a: req(1, 0) }, new Error('boom'));
      const d = events.pipe(steps({ workers: 1 }));
      expectObservable(d).toBe('-a-#', { a: '0:1[0]' }, new Error('boom'));
      // Second subscription starts over with id 0 and an idle worker.
      expectObservable(d, '^-!').toBe('-a-', { a: '0:1[0]' });
      expectSubscriptions(events.subscriptions).toBe(['^--!', '^-!']);
    });
  });
});

describe('distributor invariants (property)', () => {
  type Command =
    | { kind: 'request'; bit: number; sections: number[] }
    | { kind: 'cancel'; pick: number }
    | { kind: 'answer'; pick: number; shape: boolean[] }
    | { kind: 'fail'; pick: number }
    | { kind: 'tick'; by: number };
  const command: fc.Arbitrary<Command> = fc.oneof(
    fc.record({
      kind: fc.constant('request' as const),
      bit: fc.integer({ min: 0, max: 3 }),
      sections: fc.array(fc.integer({ min: 0, max: 12 }), { maxLength: 6 }),
    }),
    fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }),
    fc.record({
      kind: fc.constant('answer' as const),
      pick: fc.nat(),
      shape: fc.array(fc.boolean(), { maxLength: 8 }),
    }),
    fc.record({ kind: fc.constant('fail' as const), pick: fc.nat() }),
    fc.record({ kind: fc.constant('tick' as const), by: fc.integer({ min: 0, max: 40 }) }),
  );

  it('≤ workers in flight, ≤ batch per task, only wanted sections, none twice; everything wanted is settled in the end', () => {
    fc.assert(
      fc.property(
        fc.array(command, { maxLength: 60 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 3 }),
        (commands, workers, batch, maxAttempts) => {
          let now = 0;
          const events = new Subject<DistributorEvent>();
          const wanted = new Set<string>();
          const tasks = new Map<number, { bit: number; sections: number[] }>();
          const aborting = new Set<number>();
          let wakeAt: number | undefined;
          events
            .pipe(distributor({ workers, batch, wait: 0, maxAttempts, now: () => now }))
            .subscribe((step) => {
              for (const id of step.abort) {
                const task = tasks.get(id)!;
                expect(task).toBeDefined();
                expect(task.sections.some((s) => wanted.has(`${task.bit}:${s}`))).toBe(false);
                aborting.add(id);
              }
              // Delivered and failed sections are done: the share forgets them, so the model does.
              const d = step.delivered;
              for (let i = 0; d && i < d.sections.length; i++)
                if (d.vectors[i] !== undefined) wanted.delete(`${d.bit}:${d.sections[i]}`);
              for (const f of step.failed) for (const s of f.sections) wanted.delete(`${f.bit}:${s}`);
              for (const t of step.start) {
                expect(t.sections.length).toBeGreaterThan(0);
                expect(t.sections.length).toBeLessThanOrEqual(batch);
                expect(t.sections).toEqual([...new Set(t.sections)].sort((a, b) => a - b));
                for (const s of t.sections) {
                  expect(wanted.has(`${t.bit}:${s}`)).toBe(true);
                  for (const other of tasks.values())
                    expect(other.bit === t.bit && other.sections.includes(s)).toBe(false);
                }
                tasks.set(t.id, { bit: t.bit, sections: t.sections });
              }
              expect(tasks.size).toBeLessThanOrEqual(workers);
              wakeAt = step.wakeAt;
            });
          const pickTask = (n: number) => [...tasks.keys()][n % tasks.size]!;
          const outcome = (id: number, event: DistributorEvent) => {
            tasks.delete(id);
            aborting.delete(id);
            events.next(event);
          };
          for (const c of commands) {
            if (c.kind === 'request') {
              const fresh = [...new Set(c.sections)].filter((s) => !wanted.has(`${c.bit}:${s}`));
              for (const s of fresh) wanted.add(`${c.bit}:${s}`);
              if (fresh.length > 0) events.next(req(c.bit, ...fresh));
            } else if (c.kind === 'cancel' && wanted.size > 0) {
              const key = [...wanted][c.pick % wanted.size]!;
              wanted.delete(key);
              const [bit, s] = key.split(':').map(Number) as [number, number];
              events.next(cancel(bit, s));
            } else if ((c.kind === 'answer' || c.kind === 'fail') && tasks.size > 0) {
              const id = pickTask(c.pick);
              const n = tasks.get(id)!.sections.length;
              if (aborting.has(id)) outcome(id, aborted(id));
              else if (c.kind === 'fail') outcome(id, failure(id, new Error('x')));
              else
                outcome(
                  id,
                  answer(id, [...Array(n)].map((_, i) => ((c.shape[i] ?? true) ? 'v' : '-')).join('')),
                );
            } else if (c.kind === 'tick') {
              now += c.by;
              events.next(tick(now));
            }
          }
          // Drain: answer everything, let every backoff come due; all that is wanted gets settled.
          for (let guard = 0; guard < 1000 && (tasks.size > 0 || wakeAt !== undefined); guard++) {
            if (tasks.size > 0) {
              const id = pickTask(0);
              if (aborting.has(id)) outcome(id, aborted(id));
              else outcome(id, answer(id, 'v'.repeat(tasks.get(id)!.sections.length)));
            } else {
              now = Math.max(now, wakeAt!);
              events.next(tick(now));
            }
          }
          expect([...wanted]).toEqual([]);
          expect(tasks.size).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
