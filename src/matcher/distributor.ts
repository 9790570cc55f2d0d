import { defer, map, type OperatorFunction, observeOn, queueScheduler, scan } from 'rxjs';

/** A retrieval task as the distributor hands it out. */
export interface DistributedTask {
  id: number;
  bit: number;
  sections: number[];
}

/** Inputs of the distributor state machine. */
export type DistributorEvent =
  /** Unique (bit, section)s that need fetching. */
  | { type: 'request'; bit: number; sections: readonly number[] }
  /** Sections nobody waits for any more; dropped if still queued. */
  | { type: 'cancel'; bit: number; sections: readonly number[] }
  /** A task ended (delivered, failed or aborted); `requeue` lists sections to fetch again. */
  | { type: 'done'; id: number; bit: number; requeue: readonly number[] }
  /** Time passed: partial batches held back by `wait` may be due. */
  | { type: 'tick'; now: number };

/** What one step of the state machine decided. */
export interface DistributorStep {
  /** Tasks to start now, one per idle worker at most. */
  start: DistributedTask[];
  /** When set, deliver a `tick` at this time (a held-back partial batch becomes due). */
  wakeAt: number | undefined;
}

/** Distributor limits. */
export interface DistributorOptions {
  /** Tasks in flight at most. */
  workers: number;
  /** Sections of one bit per task at most. */
  batch: number;
  /** Hold a partial batch this many ms for more sections (0: never). */
  wait: number;
  /** The clock used for `wait` (the events' own `now` for ticks). */
  now: () => number;
}

interface State {
  queues: Map<number, number[]>;
  since: Map<number, number>;
  idle: number;
  nextId: number;
  step: DistributorStep;
}

/**
 * The distributor: a scan over request, cancel, done and tick events that keeps
 * per-bit queues of pending sections sorted, and whenever a worker is idle hands
 * it the bit whose lowest pending section is lowest, with up to `batch` sections.
 * Events that arrive while a step runs are queued (trampolined), so synchronous
 * retrievers cannot recurse through it.
 *
 * ```
 * events: --r(5:0,1,2)--r(9:0)--d(1)--|     workers = 1, batch = 2
 * steps:  --[5:0,1]------[]------[9:0]-|     (9:0 is lower than 5:2)
 * ```
 */
export function distributor(
  options: DistributorOptions,
): OperatorFunction<DistributorEvent, DistributorStep> {
  const { workers, batch, wait, now } = options;
  return (events) =>
    defer(() => {
      // Fresh state per subscription: the reducer mutates it.
      const initial: State = {
        queues: new Map(),
        since: new Map(),
        idle: workers,
        nextId: 0,
        step: EMPTY_STEP,
      };
      return events.pipe(
        observeOn(queueScheduler),
        scan((state: State, event: DistributorEvent) => reduce(state, event, batch, wait, now), initial),
        map((state) => state.step),
      );
    });
}

const EMPTY_STEP: DistributorStep = { start: [], wakeAt: undefined };

function reduce(
  state: State,
  event: DistributorEvent,
  batch: number,
  wait: number,
  now: () => number,
): State {
  let time: number | undefined;
  switch (event.type) {
    case 'request':
      enqueue(state, event.bit, event.sections, (time ??= now()));
      break;
    case 'cancel': {
      const queue = state.queues.get(event.bit);
      if (queue) {
        for (const s of event.sections) {
          const i = lowerBound(queue, s);
          if (queue[i] === s) queue.splice(i, 1);
        }
        if (queue.length === 0) {
          state.queues.delete(event.bit);
          state.since.delete(event.bit);
        }
      }
      break;
    }
    case 'done':
      state.idle++;
      if (event.requeue.length > 0) enqueue(state, event.bit, event.requeue, (time ??= now()));
      break;
    case 'tick':
      time = event.now;
      break;
  }
  state.step = dispatch(state, batch, wait, time ?? (wait > 0 ? now() : 0));
  return state;
}

function enqueue(state: State, bit: number, sections: readonly number[], time: number): void {
  let queue = state.queues.get(bit);
  if (!queue) {
    queue = [];
    state.queues.set(bit, queue);
    state.since.set(bit, time);
  }
  for (const s of sections) {
    const last = queue[queue.length - 1];
    if (last === undefined || last < s) queue.push(s);
    else {
      const i = lowerBound(queue, s);
      if (queue[i] !== s) queue.splice(i, 0, s);
    }
  }
}

function dispatch(state: State, batch: number, wait: number, time: number): DistributorStep {
  const start: DistributedTask[] = [];
  let wakeAt: number | undefined;
  while (state.idle > 0 && state.queues.size > 0) {
    let best = -1;
    let bestSection = Number.POSITIVE_INFINITY;
    for (const [bit, queue] of state.queues) {
      const first = queue[0]!;
      if (first > bestSection || (first === bestSection && bit > best)) continue;
      if (wait > 0 && queue.length < batch) {
        const due = state.since.get(bit)! + wait;
        if (due > time) {
          wakeAt = wakeAt === undefined ? due : Math.min(wakeAt, due);
          continue;
        }
      }
      best = bit;
      bestSection = first;
    }
    if (best < 0) break;
    const queue = state.queues.get(best)!;
    const sections = queue.splice(0, batch);
    if (queue.length === 0) {
      state.queues.delete(best);
      state.since.delete(best);
    } else state.since.set(best, time);
    state.idle--;
    start.push({ id: state.nextId++, bit: best, sections });
  }
  return { start, wakeAt: state.idle > 0 ? wakeAt : undefined };
}

function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
