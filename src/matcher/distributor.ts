import { defer, map, type OperatorFunction, scan } from 'rxjs';
import { RetrievalError } from '../errors.js';
import { VectorKeyMap } from './vectorKeyMap.js';

/** A retrieval task as the distributor hands it out. */
export interface DistributedTask {
  id: number;
  bit: number;
  sections: number[];
}

/** Inputs of the distributor: `merge(requests$, cancels$, outcomes$, ticks$)`. */
export type DistributorEvent =
  /** (bit, section)s someone now waits for. */
  | { type: 'request'; bit: number; sections: readonly number[] }
  /** (bit, section)s nobody waits for any more. */
  | { type: 'cancel'; bit: number; sections: readonly number[] }
  /** A task's answer, one entry per section (`undefined`: missing for now). */
  | { type: 'answer'; id: number; vectors: readonly (Uint8Array | undefined)[] }
  /** A task failed (retriever error, bad answer). */
  | { type: 'failure'; id: number; error: unknown }
  /** A task was aborted on the distributor's word and settled without an answer. */
  | { type: 'aborted'; id: number }
  /** Time passed: held-back partial batches and backoffs may be due. */
  | { type: 'tick'; now: number };

/** Vectors a task delivered: `vectors[i]` of `sections[i]`, `undefined` entries are not delivered. */
export interface Delivery {
  bit: number;
  sections: readonly number[];
  vectors: readonly (Uint8Array | undefined)[];
}

/** (bit, section)s that will not be delivered: their waiters fail with `error`. */
export interface Failure {
  bit: number;
  sections: readonly number[];
  error: RetrievalError;
}

/** What one step of the state machine decided. */
export interface DistributorStep {
  /** Tasks to start now, one per idle worker at most. */
  start: DistributedTask[];
  /** In-flight tasks nobody needs any more: abort them (each answers with `aborted` unless it settled first). */
  abort: number[];
  /** The vectors an `answer` brought. */
  delivered: Delivery | undefined;
  /** Sections given up on. */
  failed: Failure[];
  /** When set, deliver a `tick` at this time (a held-back batch or a backoff becomes due). */
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
  /** Answers of "missing" a (bit, section) gets before it fails. */
  maxAttempts: number;
  /** The clock of `wait` and backoffs (ticks carry their own `now`). */
  now: () => number;
}

/** First backoff before a missing vector is asked for again, in ms; doubles per attempt. */
export const MISSING_RETRY_DELAY_MS = 1;
/** Longest backoff between two asks for a missing vector, in ms. */
export const MISSING_RETRY_MAX_DELAY_MS = 1000;

/** The key of a (bit, section) pair. */
export const vectorKey = (bit: number, section: number): number => section * 2048 + bit;

interface Task {
  readonly bit: number;
  readonly sections: number[];
  aborting: boolean;
}

interface Backoff {
  readonly due: number;
  readonly bit: number;
  readonly sections: Set<number>;
}

/** The distributor's state: the one owner of wanted, queued, in-flight and backing-off work. */
interface State {
  /** Keys someone waits for (requested, not cancelled, delivered or failed). */
  readonly wanted: VectorKeyMap<true>;
  /** Sorted sections waiting for a worker, per bit. */
  readonly queues: Map<number, number[]>;
  /** When each queue last got a task or was created (for `wait`). */
  readonly since: Map<number, number>;
  readonly tasks: Map<number, Task>;
  /** Key → id of the task fetching it. */
  readonly inFlight: VectorKeyMap<number>;
  readonly backoffs: Set<Backoff>;
  readonly backingOff: VectorKeyMap<Backoff>;
  /** "Missing" answers so far per key. */
  readonly attempts: VectorKeyMap<number>;
  idle: number;
  nextId: number;
  step: DistributorStep;
}

const NONE: never[] = [];
const EMPTY_STEP: DistributorStep = {
  start: NONE,
  abort: NONE,
  delivered: undefined,
  failed: NONE,
  wakeAt: undefined,
};

/**
 * The distributor: `scan(reduce)` over request, cancel, outcome and tick events.
 * It keeps per-bit queues of wanted sections sorted, hands an idle worker the bit
 * whose lowest queued section is lowest (up to `batch` sections), aborts in-flight
 * tasks nobody waits for any more, backs missing vectors off (1 ms doubling, 1 s
 * cap) and gives up on them after `maxAttempts` answers. A worker is free again
 * only when its task's outcome comes back. The reducer is pure but for the clock.
 *
 * ```
 * events: --r(5:0,1,2)--r(9:0)--a(0)-------|     workers = 1, batch = 2
 * steps:  --[5:0,1]------[]------[9:0]+Δ5--|     (9:0 is lower than 5:2; Δ = delivered)
 * ```
 */
export function distributor(
  options: DistributorOptions,
): OperatorFunction<DistributorEvent, DistributorStep> {
  return (events) =>
    // Fresh state per subscription: the reducer mutates it.
    defer(() =>
      events.pipe(
        scan(
          (state: State, event: DistributorEvent) => reduce(state, event, options),
          initial(options.workers),
        ),
        map((state) => state.step),
      ),
    );
}

function initial(workers: number): State {
  return {
    wanted: new VectorKeyMap(),
    queues: new Map(),
    since: new Map(),
    tasks: new Map(),
    inFlight: new VectorKeyMap(),
    backoffs: new Set(),
    backingOff: new VectorKeyMap(),
    attempts: new VectorKeyMap(),
    idle: workers,
    nextId: 0,
    step: EMPTY_STEP,
  };
}

function reduce(state: State, event: DistributorEvent, options: DistributorOptions): State {
  const { wait, now } = options;
  let time: number | undefined;
  let abort: number[] = NONE;
  let delivered: Delivery | undefined;
  let failed: Failure[] = NONE;
  switch (event.type) {
    case 'request': {
      const fresh: number[] = [];
      for (const section of event.sections) {
        const key = vectorKey(event.bit, section);
        state.wanted.set(key, true);
        // (size checks first: the common case has nothing in flight or backing off for this key)
        if (
          (state.inFlight.size === 0 || !state.inFlight.has(key)) &&
          (state.backingOff.size === 0 || !state.backingOff.has(key))
        )
          fresh.push(section);
      }
      if (fresh.length > 0) enqueue(state, event.bit, fresh, (time ??= now()));
      break;
    }
    case 'cancel':
      abort = cancel(state, event.bit, event.sections);
      break;
    case 'aborted': {
      const task = finish(state, event.id);
      const requeue: number[] = [];
      for (const section of task.sections) {
        const key = vectorKey(task.bit, section);
        if (state.wanted.has(key)) requeue.push(section);
        else state.attempts.delete(key);
      }
      // Sections someone still wants go straight back: an abort is no "missing" answer.
      if (requeue.length > 0) enqueue(state, task.bit, requeue, (time ??= now()));
      break;
    }
    case 'answer': {
      const task = finish(state, event.id);
      delivered = { bit: task.bit, sections: task.sections, vectors: event.vectors };
      failed = answer(state, task, event.vectors, options, () => (time ??= now()));
      break;
    }
    case 'failure': {
      const task = finish(state, event.id);
      forget(state, task.bit, task.sections);
      failed = [
        {
          bit: task.bit,
          sections: task.sections,
          error: new RetrievalError(task.bit, task.sections, event.error),
        },
      ];
      break;
    }
    case 'tick':
      time = event.now;
      for (const backoff of state.backoffs) {
        if (backoff.due > time) continue;
        state.backoffs.delete(backoff);
        for (const section of backoff.sections) state.backingOff.delete(vectorKey(backoff.bit, section));
        enqueue(state, backoff.bit, [...backoff.sections], time);
      }
      break;
  }
  const start = dispatch(state, options, time ?? (wait > 0 ? now() : 0));
  let wakeAt = start.wakeAt;
  for (const backoff of state.backoffs)
    if (wakeAt === undefined || backoff.due < wakeAt) wakeAt = backoff.due;
  state.step =
    start.tasks.length === 0 &&
    abort.length === 0 &&
    delivered === undefined &&
    failed.length === 0 &&
    wakeAt === undefined
      ? EMPTY_STEP
      : { start: start.tasks, abort, delivered, failed, wakeAt };
  return state;
}

/** Drops wants; queued and backing-off sections go, tasks left with no wanted section are aborted. */
function cancel(state: State, bit: number, sections: readonly number[]): number[] {
  let orphans: Set<number> | undefined;
  const queue = state.queues.get(bit);
  for (const section of sections) {
    const key = vectorKey(bit, section);
    if (!state.wanted.delete(key)) continue;
    const id = state.inFlight.get(key);
    if (id !== undefined) {
      (orphans ??= new Set()).add(id);
      continue;
    }
    state.attempts.delete(key);
    const backoff = state.backingOff.get(key);
    if (backoff !== undefined) {
      state.backingOff.delete(key);
      backoff.sections.delete(section);
      if (backoff.sections.size === 0) state.backoffs.delete(backoff);
    } else if (queue !== undefined) {
      const i = lowerBound(queue, section);
      if (queue[i] === section) queue.splice(i, 1);
    }
  }
  if (queue !== undefined && queue.length === 0) {
    state.queues.delete(bit);
    state.since.delete(bit);
  }
  if (orphans === undefined) return NONE;
  const abort: number[] = [];
  for (const id of orphans) {
    const task = state.tasks.get(id)!;
    if (task.aborting || task.sections.some((s) => state.wanted.has(vectorKey(task.bit, s)))) continue;
    task.aborting = true;
    abort.push(id);
  }
  return abort;
}

/** Applies an answer: delivered sections are done, missing ones still wanted back off or are given up on. */
function answer(
  state: State,
  task: Task,
  vectors: readonly (Uint8Array | undefined)[],
  options: DistributorOptions,
  clock: () => number,
): Failure[] {
  const { bit, sections } = task;
  let retry: number[] | undefined;
  let exhausted: number[] | undefined;
  let most = 0;
  for (let i = 0; i < sections.length; i++) {
    const section = sections[i]!;
    const key = vectorKey(bit, section);
    if (vectors[i] !== undefined || !state.wanted.has(key)) {
      state.wanted.delete(key);
      if (state.attempts.size > 0) state.attempts.delete(key);
      continue;
    }
    const attempts = (state.attempts.get(key) ?? 0) + 1;
    if (attempts >= options.maxAttempts) {
      state.wanted.delete(key);
      state.attempts.delete(key);
      (exhausted ??= []).push(section);
    } else {
      state.attempts.set(key, attempts);
      (retry ??= []).push(section);
      most = Math.max(most, attempts);
    }
  }
  if (retry !== undefined) {
    // Not at once: a retriever answering "missing" synchronously would otherwise spin.
    const delay = Math.min(MISSING_RETRY_DELAY_MS * 2 ** (most - 1), MISSING_RETRY_MAX_DELAY_MS);
    const backoff: Backoff = { due: clock() + delay, bit, sections: new Set(retry) };
    state.backoffs.add(backoff);
    for (const section of retry) state.backingOff.set(vectorKey(bit, section), backoff);
  }
  if (exhausted === undefined) return NONE;
  const cause = new Error(`vector still missing after ${options.maxAttempts} attempts`);
  return [{ bit, sections: exhausted, error: new RetrievalError(bit, exhausted, cause) }];
}

/** A task's outcome came back: its worker is free, its sections no longer in flight. */
function finish(state: State, id: number): Task {
  const task = state.tasks.get(id);
  if (task === undefined) throw new Error(`distributor: outcome of unknown task ${id}`);
  state.tasks.delete(id);
  state.idle++;
  for (const section of task.sections) state.inFlight.delete(vectorKey(task.bit, section));
  return task;
}

function forget(state: State, bit: number, sections: readonly number[]): void {
  for (const section of sections) {
    const key = vectorKey(bit, section);
    state.wanted.delete(key);
    state.attempts.delete(key);
  }
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

function dispatch(
  state: State,
  options: DistributorOptions,
  time: number,
): { tasks: DistributedTask[]; wakeAt: number | undefined } {
  const { batch, wait } = options;
  let tasks: DistributedTask[] = NONE;
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
    const id = state.nextId++;
    state.tasks.set(id, { bit: best, sections, aborting: false });
    for (const section of sections) state.inFlight.set(vectorKey(best, section), id);
    if (tasks === NONE) tasks = [];
    // The task gets its own copy: a retriever that sorts or trims it cannot touch the state.
    tasks.push({ id, bit: best, sections: sections.slice() });
  }
  return { tasks, wakeAt: state.idle > 0 ? wakeAt : undefined };
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
