import {
  asyncScheduler,
  defer,
  distinctUntilChanged,
  EMPTY,
  finalize,
  from,
  ignoreElements,
  map,
  merge,
  mergeMap,
  Observable,
  observeOn,
  queueScheduler,
  type SchedulerLike,
  Subject,
  type Subscription,
  share,
  switchMap,
  tap,
  timer,
} from 'rxjs';
import {
  type DistributedTask,
  type DistributorEvent,
  type DistributorStep,
  distributor,
} from './distributor.js';
import type { VectorRegistry } from './scheduler.js';
import type { Retriever } from './types.js';
import { VectorShare } from './vectorShare.js';

export { MISSING_RETRY_DELAY_MS, MISSING_RETRY_MAX_DELAY_MS } from './distributor.js';

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

type Outcome = Extract<DistributorEvent, { type: 'answer' | 'failure' | 'aborted' }>;

/**
 * The shared half of a matcher. {@link vectors} hands out, per (bit, batch of
 * sections), an Observable of the vectors ({@link VectorShare}: LRU cache, one wait
 * per (bit, section) however many ask). While at least one subscriber holds
 * {@link running$}, the retrieval loop runs:
 *
 * ```
 * merge(requests$ + cancels$, outcomes$, ticks$) → observeOn(queue) → scan(distributor) → steps$
 * steps$ → abort, start tasks → retriever → outcomes$
 * steps$ → wakeAt → timer → ticks$
 * steps$ → delivered / failed → the share → consumers
 * ```
 *
 * Trampolining is one explicit choice: every event enters the distributor through
 * `observeOn(queueScheduler)`, and {@link withdraw} runs a query's teardown as a
 * `queueScheduler` action. So a synchronous retriever's answer, a consumer reacting
 * to a delivery, or a teardown's cancels never re-enter a step: they queue behind it,
 * the stack stays flat, and all waits a teardown withdraws reach the distributor
 * before the outcome of a task it aborted can free a worker.
 */
export class RetrievalEngine implements VectorRegistry {
  private readonly pool: VectorShare;
  private counters = { tasks: 0, vectorsRequested: 0 };

  /** Keeps the retrieval loop alive while subscribed; never emits. */
  readonly running$: Observable<never>;

  constructor(private readonly options: EngineOptions) {
    const scheduler = options.scheduler ?? asyncScheduler;
    const vectors = new VectorShare(options.cacheBytes);
    this.pool = vectors;
    this.running$ = defer(() => {
      // outcomes$ and ticks$ are made from the steps: fed back through this one subject.
      const feedback = new Subject<DistributorEvent>();
      const runs = new Map<number, () => void>();
      const steps$ = merge(vectors.wants$, feedback).pipe(
        observeOn(queueScheduler),
        distributor({
          workers: options.workers,
          batch: options.batch,
          wait: options.wait,
          maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
          now: () => scheduler.now(),
        }),
        share(),
      );
      // Subscribed first, so a step's aborts and starts happen before its vectors reach consumers:
      // a consumer that leaves on a delivery cannot have tasks started for it afterwards.
      const outcomes$ = steps$.pipe(
        tap((step) => {
          for (const id of step.abort) runs.get(id)?.();
        }),
        mergeMap((step) => step.start),
        mergeMap((task) => this.run(task, runs)),
      );
      const ticks$ = steps$.pipe(
        map((step) => step.wakeAt),
        distinctUntilChanged(),
        switchMap((at) =>
          at === undefined
            ? EMPTY
            : // A timer that fires a hair early must still make `at` due.
              timer(Math.max(0, at - scheduler.now()), scheduler).pipe(
                map((): DistributorEvent => ({ type: 'tick', now: Math.max(at, scheduler.now()) })),
              ),
        ),
      );
      const settled$ = steps$.pipe(tap((step) => this.settle(step)));
      return merge(
        merge(outcomes$, ticks$).pipe(tap((event) => feedback.next(event))),
        settled$,
        // Subscribed last: the distributor starts knowing nothing, tell it what is wanted.
        defer(() => {
          vectors.resume();
          return EMPTY;
        }),
      ).pipe(
        ignoreElements(),
        finalize(() => vectors.reset()),
      );
    }).pipe(share());
  }

  /** Current counters. */
  get stats(): EngineStats {
    return {
      ...this.counters,
      cacheHits: this.pool.cacheHits,
      cachedVectors: this.pool.cachedVectors,
      cachedBytes: this.pool.cachedBytes,
    };
  }

  /** The vectors of `sections` of `bit` (see {@link VectorShare.vectors}). Served while {@link running$} is held. */
  vectors(bit: number, sections: readonly number[]): Observable<Uint8Array[]> {
    return this.pool.vectors(bit, sections);
  }

  /**
   * Runs a query's teardown as one `queueScheduler` action: the cancels of all the
   * waits it withdraws are processed after it returns, together.
   */
  withdraw(teardown: () => void): void {
    queueScheduler.schedule(teardown);
  }

  /** Drops every cached vector (e.g. after the store rolled back). */
  clearCache(): void {
    this.pool.clearCache();
  }

  private settle(step: DistributorStep): void {
    if (step.delivered !== undefined) this.pool.deliver(step.delivered);
    for (const failure of step.failed) this.pool.fail(failure);
  }

  /**
   * Runs one task through the retriever: emits its outcome once. `runs` holds its
   * abort while unsettled; an abort settles it as `aborted`, an unsubscribe (the loop
   * stopped) only aborts its signal.
   */
  private run(task: DistributedTask, runs: Map<number, () => void>): Observable<Outcome> {
    return new Observable<Outcome>((subscriber) => {
      const { id, bit, sections } = task;
      this.counters.tasks++;
      this.counters.vectorsRequested += sections.length;
      let settled = false;
      let inner: Subscription | undefined;
      // AbortControllers are costly in Node (~µs each): made only if the retriever reads `signal`.
      let controller: AbortController | undefined;
      let aborted = false;
      const stop = () => {
        settled = true;
        runs.delete(id);
        aborted = true;
        controller?.abort();
        inner?.unsubscribe();
      };
      const settle = (outcome: Outcome) => {
        if (settled) return;
        settled = true;
        runs.delete(id);
        subscriber.next(outcome);
        subscriber.complete();
      };
      runs.set(id, () => {
        if (settled) return;
        stop();
        subscriber.next({ type: 'aborted', id });
        subscriber.complete();
      });
      const request = {
        bit,
        sections,
        get signal(): AbortSignal {
          controller ??= new AbortController();
          if (aborted) controller.abort();
          return controller.signal;
        },
      };
      let answer$: Observable<(Uint8Array | undefined)[]>;
      try {
        answer$ = from(this.options.retriever(request));
      } catch (error) {
        settle({ type: 'failure', id, error: error ?? new Error('retriever threw') });
        return;
      }
      inner = answer$.subscribe({
        next: (vectors) => settle(this.check(id, sections.length, vectors)),
        error: (error: unknown) =>
          settle({ type: 'failure', id, error: error ?? new Error('retriever failed') }),
        // Checked first: an Error captures a stack, too dear to make for every task that answered.
        complete: () => {
          if (!settled)
            settle({ type: 'failure', id, error: new Error('retriever completed without an answer') });
        },
      });
      if (settled) inner.unsubscribe();
      // Only a task still waiting for its answer is aborted: a settled one's signal stays quiet,
      // but an answer Observable that goes on emitting is still let go of.
      return () => {
        if (!settled) stop();
        else inner?.unsubscribe();
      };
    });
  }

  /** An answer of the wrong shape is a failure of its task. */
  private check(id: number, expected: number, vectors: readonly (Uint8Array | undefined)[]): Outcome {
    if (!Array.isArray(vectors) || vectors.length !== expected) {
      const got = Array.isArray(vectors) ? vectors.length : typeof vectors;
      return {
        type: 'failure',
        id,
        error: new Error(`retriever answered ${got} entries for ${expected} sections`),
      };
    }
    const length = this.options.vectorLength;
    for (const v of vectors) {
      if (v !== undefined && (!(v instanceof Uint8Array) || v.length !== length)) {
        const got = v instanceof Uint8Array ? v.length : typeof v;
        return {
          type: 'failure',
          id,
          error: new Error(`retriever answered a vector of ${got} bytes, expected ${length}`),
        };
      }
    }
    return { type: 'answer', id, vectors };
  }
}
