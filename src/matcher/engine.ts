import {
  asyncScheduler,
  defer,
  EMPTY,
  finalize,
  from,
  ignoreElements,
  map,
  merge,
  mergeMap,
  Observable,
  type SchedulerLike,
  Subject,
  type Subscription,
  share,
  switchMap,
  tap,
  timer,
} from 'rxjs';
import { RetrievalError } from '../errors.js';
import { type DistributedTask, type DistributorEvent, distributor } from './distributor.js';
import type { Retriever } from './types.js';

/** One (bit, section) vector: cached once delivered, pending while someone waits for it. */
export interface VectorEntry {
  readonly key: number;
  readonly bit: number;
  readonly section: number;
  vector: Uint8Array | undefined;
  /** Requests waiting for this vector (pending entries only). */
  waiters: VectorRequest[];
  /** The task fetching it, while in flight. */
  task: TaskRun | undefined;
  /** Retriever answers so far that said "missing for now". */
  attempts: number;
  /** The backoff wait it is in before being asked for again. */
  backoff: Backoff | undefined;
}

/** Missing vectors of one task waiting to be asked for again. */
interface Backoff {
  readonly bit: number;
  readonly entries: Set<VectorEntry>;
  timer: Subscription | undefined;
}

/** One consumer's wait for the vectors of a batch of sections of one bit. */
export interface VectorRequest {
  remaining: number;
  ready(): void;
  fail(error: unknown): void;
}

interface TaskRun {
  readonly task: DistributedTask;
  readonly entries: VectorEntry[];
  /** Aborts the task: its signal fires and the run settles as "nothing delivered". */
  abort(): void;
}

/** Settings of a {@link RetrievalEngine}. */
export interface EngineOptions {
  retriever: Retriever;
  /** Bytes per vector (sectionSize / 8); other lengths are rejected as corrupt. */
  vectorLength: number;
  workers: number;
  batch: number;
  wait: number;
  cacheBytes: number;
  /** Retriever answers of "missing" a (bit, section) gets before its query fails. Default 10. */
  maxAttempts?: number;
  /** Scheduler for `wait` and backoff timers (virtual time in marble tests). */
  scheduler?: SchedulerLike;
}

/** Default answers of "missing" before a vector counts as unavailable. */
export const DEFAULT_MAX_ATTEMPTS = 10;
/** First backoff before a missing vector is asked for again, in ms; doubles per attempt. */
export const MISSING_RETRY_DELAY_MS = 1;
/** Longest backoff between two asks for a missing vector, in ms. */
export const MISSING_RETRY_MAX_DELAY_MS = 1000;

/** Counters for tests, benchmarks and curious users. */
export interface EngineStats {
  /** Retriever calls made. */
  tasks: number;
  /** (bit, section) vectors asked of the retriever. */
  vectorsRequested: number;
  /** Vectors answered from the cache. */
  cacheHits: number;
  /** Vectors held in the cache now. */
  cachedVectors: number;
  /** Bytes of vectors held in the cache now. */
  cachedBytes: number;
}

const SECTION_KEY = 2048;

/**
 * The shared half of a matcher: a bounded LRU cache of delivered vectors, the
 * registry of pending (bit, section) requests that dedups them across clauses,
 * groups and concurrent subscriptions, and the retrieval loop
 * `merge(requests, task outcomes, ticks) → distributor → workers`.
 * The loop runs while at least one subscriber holds {@link running$}.
 */
export class RetrievalEngine {
  private readonly cache = new Map<number, VectorEntry>();
  private readonly pending = new Map<number, VectorEntry>();
  private readonly events = new Subject<DistributorEvent>();
  private readonly runs = new Map<number, TaskRun>();
  private readonly backoffs = new Set<Backoff>();
  private readonly scheduler: SchedulerLike;
  /** Distributor events held back while {@link atomically} runs. */
  private held: DistributorEvent[] | undefined;
  private bytes = 0;
  private counters = { tasks: 0, vectorsRequested: 0, cacheHits: 0 };

  /** Keeps the retrieval loop alive while subscribed; never emits. */
  readonly running$: Observable<never>;

  constructor(private readonly options: EngineOptions) {
    const scheduler = options.scheduler ?? asyncScheduler;
    this.scheduler = scheduler;
    this.running$ = defer(() => {
      const steps$ = this.events.pipe(
        distributor({
          workers: options.workers,
          batch: options.batch,
          wait: options.wait,
          now: () => scheduler.now(),
        }),
        share(),
      );
      const work$ = steps$.pipe(
        mergeMap((step) => step.start),
        mergeMap((task) => this.run(task)),
      );
      const ticks$ = steps$.pipe(
        switchMap((step) =>
          step.wakeAt === undefined ? EMPTY : timer(Math.max(0, step.wakeAt - scheduler.now()), scheduler),
        ),
        map(() => ({ type: 'tick', now: scheduler.now() }) as const),
        tap((tick) => this.emit(tick)),
      );
      return merge(work$, ticks$).pipe(
        ignoreElements(),
        finalize(() => this.reset()),
      );
    }).pipe(share());
  }

  /** Current counters. */
  get stats(): EngineStats {
    return { ...this.counters, cachedVectors: this.cache.size, cachedBytes: this.bytes };
  }

  /**
   * Registers `request` for the vectors of `sections` of `bit`. Cached vectors
   * count as delivered; sections nobody asked for yet go to the distributor.
   * Returns the entries in section order.
   */
  acquire(bit: number, sections: readonly number[], request: VectorRequest): VectorEntry[] {
    const entries: VectorEntry[] = new Array(sections.length);
    let fresh: number[] | undefined;
    for (let i = 0; i < sections.length; i++) {
      const section = sections[i]!;
      const key = section * SECTION_KEY + bit;
      let entry = this.cache.get(key);
      if (entry) {
        // Refresh LRU position.
        this.cache.delete(key);
        this.cache.set(key, entry);
        this.counters.cacheHits++;
      } else {
        entry = this.pending.get(key);
        if (!entry) {
          entry = {
            key,
            bit,
            section,
            vector: undefined,
            waiters: [],
            task: undefined,
            attempts: 0,
            backoff: undefined,
          };
          this.pending.set(key, entry);
          (fresh ??= []).push(section);
        }
        entry.waiters.push(request);
        request.remaining++;
      }
      entries[i] = entry;
    }
    if (fresh) this.emit({ type: 'request', bit, sections: fresh });
    return entries;
  }

  /** Withdraws `request` from entries it still waits for; unwanted queued work is cancelled, unwanted tasks aborted. */
  release(entries: readonly VectorEntry[], request: VectorRequest): void {
    let cancelled: number[] | undefined;
    let bit = -1;
    for (const entry of entries) {
      if (entry.vector !== undefined) continue;
      const i = entry.waiters.indexOf(request);
      if (i < 0) continue;
      entry.waiters.splice(i, 1);
      if (entry.waiters.length > 0) continue;
      if (entry.backoff !== undefined) {
        this.pending.delete(entry.key);
        this.leaveBackoff(entry);
      } else if (entry.task === undefined) {
        this.pending.delete(entry.key);
        (cancelled ??= []).push(entry.section);
        bit = entry.bit;
      } else if (entry.task.entries.every((e) => e.waiters.length === 0)) {
        entry.task.abort();
      }
    }
    if (cancelled) this.emit({ type: 'cancel', bit, sections: cancelled });
  }

  /**
   * Runs `fn` (a query's teardown) with distributor events held until it returns.
   * Otherwise a task aborted by the first release would free a worker that is
   * handed sections whose waits the next release withdraws: a retriever call
   * after unsubscribe.
   */
  atomically(fn: () => void): void {
    if (this.held) {
      fn();
      return;
    }
    const held: DistributorEvent[] = [];
    this.held = held;
    try {
      fn();
    } finally {
      this.held = undefined;
      for (const event of held) this.events.next(event);
    }
  }

  private emit(event: DistributorEvent): void {
    if (this.held) this.held.push(event);
    else this.events.next(event);
  }

  /** Runs one task through the retriever; settles it exactly once. */
  private run(task: DistributedTask): Observable<never> {
    return new Observable<never>((subscriber) => {
      const entries: VectorEntry[] = [];
      for (const section of task.sections) {
        const entry = this.pending.get(section * SECTION_KEY + task.bit);
        if (entry && entry.waiters.length > 0) entries.push(entry);
      }
      if (entries.length === 0) {
        // Everyone left while it was queued: no retriever call.
        this.emit({ type: 'done', id: task.id, bit: task.bit, requeue: [] });
        subscriber.complete();
        return;
      }
      let settled = false;
      let aborted = false;
      // AbortControllers are costly in Node (~µs each): made only if the retriever reads `signal`.
      let controller: AbortController | undefined;
      const settle = (vectors: readonly (Uint8Array | undefined)[] | undefined, error?: unknown) => {
        if (settled) return;
        settled = true;
        this.settle(run, vectors, error);
        subscriber.complete();
      };
      const run: TaskRun = {
        task: { ...task, sections: entries.map((e) => e.section) },
        entries,
        abort: () => {
          if (aborted) return;
          aborted = true;
          controller?.abort();
          inner?.unsubscribe();
          settle(undefined);
        },
      };
      for (const entry of entries) entry.task = run;
      this.runs.set(task.id, run);
      this.counters.tasks++;
      this.counters.vectorsRequested += entries.length;
      const request = {
        bit: task.bit,
        sections: run.task.sections,
        get signal(): AbortSignal {
          controller ??= new AbortController();
          if (aborted) controller.abort();
          return controller.signal;
        },
      };
      // settle() wakes consumers up: a throw on their side must end the loop loudly, not vanish.
      const guard =
        <A extends unknown[]>(fn: (...args: A) => void) =>
        (...args: A) => {
          try {
            fn(...args);
          } catch (error) {
            subscriber.error(error);
          }
        };
      let inner: { unsubscribe(): void } | undefined;
      let answer: Observable<(Uint8Array | undefined)[]> | undefined;
      try {
        answer = from(this.options.retriever(request));
      } catch (error) {
        guard(settle)(undefined, error ?? new Error('retriever threw'));
      }
      inner = answer?.subscribe({
        next: guard((vectors: (Uint8Array | undefined)[]) => settle(vectors)),
        error: guard((error: unknown) => settle(undefined, error ?? new Error('retriever failed'))),
        complete: guard(() => settle(undefined, new Error('retriever completed without an answer'))),
      });
      if (settled) inner?.unsubscribe();
      // Only a task still waiting for its answer is aborted: a settled one's signal stays quiet.
      return () => {
        if (!settled) run.abort();
      };
    });
  }

  /** Applies a task's outcome: cache delivered vectors, requeue missing ones still wanted, fail waiters on error. */
  private settle(
    run: TaskRun,
    vectors: readonly (Uint8Array | undefined)[] | undefined,
    error: unknown,
  ): void {
    const { task, entries } = run;
    this.runs.delete(task.id);
    if (error === undefined && vectors !== undefined) error = this.validate(vectors, entries.length);
    const retry: VectorEntry[] = [];
    const exhausted: VectorEntry[] = [];
    const ready: VectorRequest[] = [];
    const failed = new Set<VectorRequest>();
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      entry.task = undefined;
      const vector = error === undefined ? vectors?.[i] : undefined;
      if (vector !== undefined) {
        entry.vector = vector;
        this.pending.delete(entry.key);
        for (const w of entry.waiters) if (--w.remaining === 0) ready.push(w);
        entry.waiters = [];
        this.store(entry);
      } else if (error !== undefined) {
        this.pending.delete(entry.key);
        for (const w of entry.waiters) failed.add(w);
        entry.waiters = [];
      } else if (entry.waiters.length === 0) this.pending.delete(entry.key);
      else if (vectors === undefined) retry.push(entry);
      else if (++entry.attempts >= this.maxAttempts) exhausted.push(entry);
      else retry.push(entry);
    }
    // An aborted task's sections that someone still wants go straight back; "missing" answers back off.
    const aborted = vectors === undefined;
    this.emit({
      type: 'done',
      id: task.id,
      bit: task.bit,
      requeue: aborted ? retry.map((e) => e.section) : [],
    });
    if (!aborted && retry.length > 0) this.backOff(task.bit, retry);
    if (failed.size > 0) {
      const failure = new RetrievalError(task.bit, task.sections, error);
      for (const w of failed) w.fail(failure);
    }
    if (exhausted.length > 0) this.exhaust(task.bit, exhausted);
    for (const w of ready) w.ready();
  }

  private get maxAttempts(): number {
    return this.options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  }

  /**
   * Missing vectors are asked for again after a backoff (1 ms doubling up to 1 s, on the
   * engine's scheduler), not at once: a retriever that keeps answering "missing" from a
   * synchronous or resolved answer would otherwise spin the event loop and never let an
   * unsubscribe in.
   */
  private backOff(bit: number, entries: readonly VectorEntry[]): void {
    const attempts = Math.max(...entries.map((e) => e.attempts));
    const delay = Math.min(MISSING_RETRY_DELAY_MS * 2 ** (attempts - 1), MISSING_RETRY_MAX_DELAY_MS);
    const backoff: Backoff = { bit, entries: new Set(entries), timer: undefined };
    for (const entry of entries) entry.backoff = backoff;
    this.backoffs.add(backoff);
    backoff.timer = this.scheduler.schedule(() => {
      this.backoffs.delete(backoff);
      const sections: number[] = [];
      for (const entry of backoff.entries) {
        entry.backoff = undefined;
        if (this.pending.get(entry.key) === entry && entry.waiters.length > 0) sections.push(entry.section);
      }
      if (sections.length > 0) this.emit({ type: 'request', bit, sections });
    }, delay);
  }

  /** An entry nobody waits for any more leaves its backoff; the last one out cancels the timer. */
  private leaveBackoff(entry: VectorEntry): void {
    const backoff = entry.backoff!;
    entry.backoff = undefined;
    backoff.entries.delete(entry);
    if (backoff.entries.size === 0) {
      backoff.timer?.unsubscribe();
      this.backoffs.delete(backoff);
    }
  }

  /** Vectors still missing after {@link maxAttempts} answers fail their queries. */
  private exhaust(bit: number, entries: readonly VectorEntry[]): void {
    const waiters = new Set<VectorRequest>();
    for (const entry of entries) {
      this.pending.delete(entry.key);
      for (const w of entry.waiters) waiters.add(w);
      entry.waiters = [];
    }
    const sections = entries.map((e) => e.section);
    const failure = new RetrievalError(
      bit,
      sections,
      new Error(`vector still missing after ${this.maxAttempts} attempts`),
    );
    for (const w of waiters) w.fail(failure);
  }

  private validate(vectors: readonly (Uint8Array | undefined)[], expected: number): Error | undefined {
    if (!Array.isArray(vectors) || vectors.length !== expected) {
      return new Error(
        `retriever answered ${Array.isArray(vectors) ? vectors.length : typeof vectors} entries for ${expected} sections`,
      );
    }
    const length = this.options.vectorLength;
    for (const v of vectors) {
      if (v !== undefined && (!(v instanceof Uint8Array) || v.length !== length)) {
        return new Error(
          `retriever answered a vector of ${v instanceof Uint8Array ? v.length : typeof v} bytes, expected ${length}`,
        );
      }
    }
    return undefined;
  }

  private store(entry: VectorEntry): void {
    const size = entry.vector!.length;
    if (size > this.options.cacheBytes) return;
    this.cache.set(entry.key, entry);
    this.bytes += size;
    while (this.bytes > this.options.cacheBytes) {
      const oldest = this.cache.keys().next();
      if (oldest.done) break;
      const evicted = this.cache.get(oldest.value)!;
      this.cache.delete(oldest.value);
      this.bytes -= evicted.vector!.length;
    }
  }

  /** The loop stopped: nothing is queued or in flight any more. */
  private reset(): void {
    for (const run of this.runs.values()) run.abort();
    this.runs.clear();
    for (const backoff of this.backoffs) backoff.timer?.unsubscribe();
    this.backoffs.clear();
    this.pending.clear();
  }

  /** Drops every cached vector (e.g. after the store rolled back). */
  clearCache(): void {
    this.cache.clear();
    this.bytes = 0;
  }
}
