import { defer, EMPTY, merge, Observable, type SchedulerLike, Subject, takeUntil } from 'rxjs';
import { DEFAULT_SECTION_SIZE } from '../constants.js';
import { InvalidFilterError, InvalidOptionError, InvalidRangeError } from '../errors.js';
import { compileFilter } from '../filter/compileFilter.js';
import { parseBlockNumber } from '../types/blockNumber.js';
import type { BlockNumberInput, LogFilter } from '../types/chain.js';
import { isSectionSize, SECTION_SIZE_RULE } from '../types/sectionSize.js';
import { blockNumbers } from './blockNumbers.js';
import { DEFAULT_MAX_ATTEMPTS, type EngineStats, RetrievalEngine } from './engine.js';
import { sectionBatches } from './sectionBatches.js';
import { subMatch } from './subMatch.js';
import type { Retriever, SectionBatch } from './types.js';

/** Default retrieval tasks in flight (see {@link MatcherOptions.workers}). */
export const DEFAULT_WORKERS = 4;
/** Default sections per retrieval task and per batch (see {@link MatcherOptions.batch}). */
export const DEFAULT_BATCH = 128;
/** Default bytes of the shared vector cache (see {@link MatcherOptions.cacheBytes}). */
export const DEFAULT_CACHE_BYTES = 2 * 1024 * 1024;

/** Options of {@link createMatcher}. */
export interface MatcherOptions {
  /** Loads bit vectors (a level store via `storeRetriever`, memory, network...). */
  retriever: Retriever;
  /** Blocks per section; a multiple of 8. Default 4096. */
  sectionSize?: number;
  /**
   * Retrieval tasks in flight at most. Default {@link DEFAULT_WORKERS} (4): enough to keep
   * classic-level's four libuv threads busy while the main thread decodes; more only adds
   * lock contention in LevelDB and queued buffers (16 measured ~10–30% slower).
   */
  workers?: number;
  /**
   * Sections per retrieval task (and per batch down the chain). Default {@link DEFAULT_BATCH}
   * (128): the per-read and per-emission costs (one native hop, one RxJS emission) are spread
   * over 8× more vectors than geth's 16; 64 measured 1.4–2× faster than 16 on every query
   * shape, and 128 another 5–40% faster than 64 on classic-level (side by side, 1/10/50%
   * vectors), while 256 slowed the 30-bit shape on dense vectors.
   */
  batch?: number;
  /** Milliseconds a partial task may wait for more sections. Default 0. */
  wait?: number;
  /**
   * Bytes of vectors the shared LRU cache may hold. Default {@link DEFAULT_CACHE_BYTES} (2 MiB,
   * 4,096 vectors of 4,096-block sections, about one batch of a 30-bit query): a cached vector
   * lives until evicted, and the longer streaming queries keep vectors alive, the more of them V8
   * promotes to the old generation. Ten addresses (30 bits) over 1,000 sections of 50%-dense
   * vectors, one process each, four pairs of runs: 8 MiB promoted 73–77 MB per 8 queries and
   * spent 420–660 ms in GC with 3 full collections, 2 MiB 43–62 MB, 260–460 ms and 1 (CPU per
   * query 14% lower in one pair; on a busy machine the others could not tell; 32 MiB had cost
   * ~10% more CPU than 8 MiB). Peak RSS of that query over 5,000 sections of 10% vectors:
   * ~171 MB instead of ~186–189 MB. 2 MiB still holds every vector of a 3-bit query over 1,300
   * sections, so a repeated narrow query is served from it, and 1,000 identical concurrent
   * queries still read each (bit, section) once (they share reads in flight, not only the
   * cache). In process memory a full cache costs about twice its bound (array headers, map,
   * evicted arrays V8 frees late).
   */
  cacheBytes?: number;
  /**
   * Batches the head of a query may run ahead of its tail. Default `workers`: a batch asks for
   * one task per bit, so that keeps every worker busy, while 2 × workers held twice the vectors
   * in flight, which then outlived V8's young generation (shape with 30 bits: ~15% slower).
   */
  lookahead?: number;
  /**
   * Answers of "missing for now" (`undefined`) a (bit, section) may get before its query fails
   * with a RetrievalError. Between two asks the matcher backs off: 1 ms, doubling, at most 1 s.
   * Default 10.
   */
  maxAttempts?: number;
  /** Scheduler for `wait` and backoff timers (tests pass a virtual one). */
  scheduler?: SchedulerLike;
}

/** An inclusive block range with concrete ends (`'latest'` is not known to a bare matcher). */
export interface MatchRange {
  fromBlock: BlockNumberInput;
  toBlock: BlockNumberInput;
}

/** A bloom-bits matcher: one shared cache and retrieval loop for all its queries. */
export interface Matcher {
  /**
   * Candidate blocks of `filter` in the range, ascending, each once. Lazy; unsubscribe cancels.
   * @example
   * ```ts
   * const blocks = await lastValueFrom(matcher.match({ address: token }, { fromBlock: 0, toBlock: 8191 }).pipe(toArray()));
   * ```
   */
  match(filter: LogFilter, range: MatchRange): Observable<number>;
  /**
   * As {@link match}, with precompiled groups: group → clause → bit indexes (AND of groups, OR of clauses).
   * @example
   * ```ts
   * const groups = compileFilter({ topics: [TRANSFER] }); // e.g. [[[1443, 481, 1060]]]
   * matcher.matchBits(groups, { fromBlock: 0, toBlock: 8191 }).pipe(take(10)).subscribe(console.log);
   * ```
   */
  matchBits(groups: readonly (readonly (readonly number[])[])[], range: MatchRange): Observable<number>;
  /**
   * The candidates as batches of sections, pull-driven: emits only batches with at
   * least one candidate (bitsets clipped to the range, sections ascending), first
   * {@link lookahead} of them, then one more per value of `credits$`. Batches ruled out
   * on the way return their credit by themselves. No groups: every block of the range.
   * Read a batch's blocks with `blocksOfBatch`.
   * @example
   * ```ts
   * // One batch more each time the consumer is done with one (what fetchCandidates does for you).
   * const credits$ = new Subject<void>();
   * matcher.matchBatches(groups, range, credits$).subscribe((batch) => {
   *   for (const block of blocksOfBatch(batch, matcher.sectionSize)) console.log(block);
   *   credits$.next();
   * });
   * ```
   */
  matchBatches(
    groups: readonly (readonly (readonly number[])[])[],
    range: MatchRange,
    credits$: Observable<unknown>,
  ): Observable<SectionBatch>;
  /** Batches {@link matchBatches} emits before it needs a credit. */
  readonly lookahead: number;
  /** Retrieval and cache counters. */
  readonly stats: EngineStats;
  /** Forgets every cached vector (call after the underlying store changed). */
  clearCache(): void;
  readonly sectionSize: number;
}

/**
 * Creates a matcher over a retriever. All queries of one matcher share one
 * scheduler per bit (requests for a cached or pending (bit, section) are never
 * sent twice), one bounded LRU cache and one pool of `workers`. Groups are read
 * in order, each only for the sections earlier ones left; within a group, once
 * sparse vectors show it pays, a clause's last bit is read only for the sections
 * its other bits left (about a fifth fewer reads at 1% density).
 * @example
 * ```ts
 * const store = await BloomBitsStore.open(db, { readOnly: true });
 * const matcher = createMatcher({ retriever: storeRetriever(store) }); // defaults: workers 4, batch 128
 * matcher.match({ topics: [eventTopic('Transfer(address,address,uint256)')] }, { fromBlock: 0, toBlock: 12_287 })
 *   .subscribe((block) => console.log('candidate', block));
 * ```
 */
export function createMatcher(options: MatcherOptions): Matcher {
  const sectionSize = options.sectionSize ?? DEFAULT_SECTION_SIZE;
  const workers = options.workers ?? DEFAULT_WORKERS;
  const batch = options.batch ?? DEFAULT_BATCH;
  const wait = options.wait ?? 0;
  const cacheBytes = options.cacheBytes ?? DEFAULT_CACHE_BYTES;
  const lookahead = options.lookahead ?? workers;
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!isSectionSize(sectionSize)) {
    throw new InvalidOptionError('sectionSize', `must be ${SECTION_SIZE_RULE}, got ${sectionSize}`);
  }
  for (const [name, value] of Object.entries({ workers, batch, lookahead, maxAttempts })) {
    if (!Number.isInteger(value) || value < 1)
      throw new InvalidOptionError(name, `must be a positive integer, got ${value}`);
  }
  for (const [name, value] of Object.entries({ wait, cacheBytes })) {
    if (!(value >= 0)) throw new InvalidOptionError(name, `must be a non-negative number, got ${value}`);
  }
  if (typeof options.retriever !== 'function')
    throw new InvalidOptionError('retriever', 'must be a function');

  const engine = new RetrievalEngine({
    retriever: options.retriever,
    vectorLength: sectionSize / 8,
    workers,
    batch,
    wait,
    cacheBytes,
    maxAttempts,
    scheduler: options.scheduler,
  });

  const matchBatches = (
    groups: readonly (readonly (readonly number[])[])[],
    range: MatchRange,
    credits$: Observable<unknown>,
  ): Observable<SectionBatch> =>
    defer(() => {
      validateGroups(groups);
      const fromBlock = parseBlockNumber(range?.fromBlock);
      const toBlock = parseBlockNumber(range?.toBlock);
      if (toBlock < fromBlock)
        throw new InvalidRangeError(`reversed range: toBlock ${toBlock} < fromBlock ${fromBlock}`);
      if (groups.some((g) => g.length === 0)) return EMPTY;
      const walk = { fromBlock, toBlock, sectionSize, batch, lookahead };
      if (groups.length === 0) return sectionBatches(walk, credits$);
      return new Observable<SectionBatch>((subscriber) => {
        // Credits of the head: the consumer's, plus the ones of batches ruled out on the way.
        const returned = new Subject<void>();
        let chain = sectionBatches(walk, merge(credits$, returned));
        for (const group of groups) chain = chain.pipe(subMatch(engine, group));
        const stop = new Subject<void>();
        const loop = engine.running$.subscribe({ error: (e) => subscriber.error(e) });
        // Registered before the query starts, so it also runs when the consumer leaves
        // during a synchronous first emission. Query first: its waits are withdrawn
        // before the loop may stop, in one trampolined action, so that work freed on the
        // way (an aborted task's worker) is not handed to waits about to be withdrawn.
        subscriber.add(() =>
          engine.withdraw(() => {
            stop.next();
            loop.unsubscribe();
          }),
        );
        chain.pipe(takeUntil(stop)).subscribe({
          next: (b) => {
            try {
              // sectionBatches counts a credit that comes back while it emits: no recursion here.
              if (b.sections.length === 0) returned.next();
              else subscriber.next(b);
            } catch (error) {
              subscriber.error(error);
            }
          },
          error: (e) => subscriber.error(e),
          complete: () => subscriber.complete(),
        });
      });
    });

  const matchBits = (
    groups: readonly (readonly (readonly number[])[])[],
    range: MatchRange,
  ): Observable<number> =>
    defer(() => {
      const credits = new Subject<void>();
      return matchBatches(groups, range, credits).pipe(blockNumbers(sectionSize, () => credits.next()));
    });

  return {
    sectionSize,
    lookahead,
    matchBatches,
    matchBits,
    match: (filter, range) => defer(() => matchBits(compileFilter(filter), range)),
    get stats() {
      return engine.stats;
    },
    clearCache: () => engine.clearCache(),
  };
}

function validateGroups(groups: unknown): void {
  if (!Array.isArray(groups)) throw new InvalidFilterError('groups must be an array');
  for (const group of groups) {
    if (!Array.isArray(group)) throw new InvalidFilterError('each group must be an array of clauses');
    for (const clause of group) {
      if (!Array.isArray(clause) || clause.length === 0) {
        throw new InvalidFilterError('each clause must be a non-empty array of bit indexes');
      }
      for (const bit of clause) {
        if (!Number.isInteger(bit) || bit < 0 || bit > 2047)
          throw new InvalidFilterError(`bad bloom bit index: ${bit}`);
      }
    }
  }
}
