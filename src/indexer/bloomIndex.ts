import {
  concat,
  concatMap,
  defer,
  EMPTY,
  filter as filterOp,
  map,
  Observable,
  of,
  range as rangeOf,
  Subject,
} from 'rxjs';
import { bloomTestGroups } from '../bloom/index.js';
import { DEFAULT_CONFIRMATIONS } from '../constants.js';
import { BeyondHeadError, CorruptDataError, IndexBusyError, InvalidOptionError } from '../errors.js';
import { compileFilter } from '../filter/compileFilter.js';
import { filterLogs } from '../filter/filterLogs.js';
import { normalizeFilter } from '../filter/normalizeFilter.js';
import { BloomBitsGenerator } from '../generator/index.js';
import { blocksOfBatch } from '../matcher/blockNumbers.js';
import { createMatcher } from '../matcher/matcher.js';
import { fetchCandidates } from '../operators/fetchCandidates.js';
import type { LogsSource } from '../sources/types.js';
import type { BloomBitsDb } from '../store/db.js';
import { BloomBitsStore } from '../store/index.js';
import { parseBlockNumber, parseBlockRange } from '../types/blockNumber.js';
import type { BlockHeader, BlockRange, Log, LogFilter } from '../types/chain.js';
import { bytesToHex } from '../types/hex.js';
import { type HeaderSource, ingestHeaders, type ParsedHeader } from './ingest.js';
import {
  type Generation,
  hashAt,
  headOf,
  type IndexSnapshot,
  sameHash,
  tailBlockOf,
  tailStartOf,
} from './snapshot.js';
import { GENESIS_KEY, type TailBlock, type TailOp, TailStore, tailDels, tailPuts } from './tailStore.js';
import type { BloomIndexOptions, IndexHeadersOptions, IndexInfo, IndexProgress } from './types.js';

export type { HeaderSource } from './ingest.js';

/** Options of {@link BloomIndex.logs}. */
export interface LogsOptions {
  /** Where candidate blocks' logs come from. */
  receipts: LogsSource;
  /** Blocks whose logs are fetched at once (a positive integer). Default 4. */
  concurrency?: number;
}

/** Options of {@link BloomIndex.watch}. */
export interface WatchOptions extends LogsOptions {
  /** First block of the history part. Default 0. */
  fromBlock?: BlockRange['fromBlock'];
  /** New headers to index while watching (omit when another `indexHeaders` run feeds the index). */
  source?: HeaderSource;
  /** Passed to the `indexHeaders` run of `source`. */
  allowDeepReorg?: boolean;
}

/**
 * Tail blocks accepted before they are written to the db, when the source pauses.
 * While headers keep coming the tail is written only at the end: most of it gets
 * committed (and its entries deleted) first, and a crash loses at most a tail's
 * worth of headers to fetch again (committed sections are never lost).
 */
const FLUSH_EVERY = 1024;

/** The single writer of each db (an `indexHeaders` run), across every BloomIndex opened on it. */
interface WriterLock {
  /** Subscribed and not ended: a second writer is refused. */
  running: boolean;
  /** True once the run ended and its last write is done. */
  ended: boolean;
  /** Settles when `ended` becomes true. */
  done: Promise<void>;
}
const writers = new WeakMap<BloomBitsDb, WriterLock>();

/**
 * The facade: a bloom-bits store over an injected abstract-level db, a matcher
 * per committed-state generation, and the unindexed tail (blocks not yet in a
 * committed section, answered from their header blooms).
 *
 * Consistency: the index state is an immutable {@link IndexSnapshot}, replaced
 * by every accepted header, commit, flush and rollback. A query (`match`,
 * `logs`) runs entirely on the snapshot current when it is subscribed to: a
 * reorg or commit happening meanwhile never changes its answer, which is
 * exactly the answer the index gave at that moment (vectors of sections rolled
 * back meanwhile stay readable under their old heads until no such query runs).
 */
export class BloomIndex {
  private snap: IndexSnapshot;
  /** Tail entries of the current snapshot written to the db. */
  private persisted: number;
  private genesisRecorded: boolean;
  private readonly headsSubject = new Subject<BlockHeader>();
  private generations = 0;
  /** Generations older than the current one with queries still running. */
  private readonly oldGenerations = new Set<Generation>();
  private sweepPending = false;
  private sweeping: Promise<void> = Promise.resolve();

  private constructor(
    private readonly db: BloomBitsDb,
    readonly store: BloomBitsStore,
    private readonly tailStore: TailStore,
    private readonly options: BloomIndexOptions,
    readonly confirmations: number,
    tail: TailBlock[],
    genesis: Uint8Array | undefined,
    genesisRecorded: boolean,
  ) {
    const heads = store.heads();
    this.snap = {
      generation: this.newGeneration(heads),
      sectionSize: store.sectionSize,
      count: heads.length,
      heads,
      tail,
      tailLength: tail.length,
      genesis,
    };
    this.persisted = tail.length;
    this.genesisRecorded = genesisRecorded;
  }

  /**
   * Opens an index in `db` (created on the first write). Opening reads and
   * never writes. The db is not closed by the index.
   * @throws InvalidOptionError on a bad option; other BloomBitsError subclasses on a corrupt or mismatched store.
   */
  static async open(db: BloomBitsDb, options: BloomIndexOptions = {}): Promise<BloomIndex> {
    const confirmations = options.confirmations ?? DEFAULT_CONFIRMATIONS;
    if (!Number.isSafeInteger(confirmations) || confirmations < 0) {
      throw new InvalidOptionError(
        'confirmations',
        `must be a non-negative integer, got ${String(confirmations)}`,
      );
    }
    // Validates workers/batch/cacheBytes before anything is read.
    createMatcher({ ...matcherOptions(options), retriever: () => [], sectionSize: undefined });
    const store = await BloomBitsStore.open(db, {
      sectionSize: options.sectionSize,
      readOnly: options.readOnly,
    });
    const tailStore = new TailStore(db);
    const tailStart = store.heads().length * store.sectionSize;
    const { blocks, genesis } = await tailStore.load(tailStart);
    const first = tailStart === 0 ? blocks[0] : undefined;
    if (genesis !== undefined && first !== undefined && !sameHash(genesis, first.hash)) {
      throw new CorruptDataError('the recorded genesis hash differs from tail block 0', { key: 'iCgenesis' });
    }
    return new BloomIndex(
      db,
      store,
      tailStore,
      options,
      confirmations,
      blocks,
      genesis ?? first?.hash,
      genesis !== undefined,
    );
  }

  /** Blocks per section. */
  get sectionSize(): number {
    return this.store.sectionSize;
  }

  /** Highest block indexed (committed or tail), -1 when empty. */
  get head(): number {
    return headOf(this.snap);
  }

  /** The block an indexing run should start from to continue this index. */
  get nextBlock(): number {
    return this.head + 1;
  }

  /** Every header accepted into the index, as it is accepted (a reorg's new blocks included). */
  get heads$(): Observable<BlockHeader> {
    return this.headsSubject.asObservable();
  }

  /** The current state (immutable; a later change publishes a new one). */
  snapshot(): IndexSnapshot {
    return this.snap;
  }

  /** True while an `indexHeaders` run (of any BloomIndex on this db) is active. */
  get indexing(): boolean {
    return writers.get(this.db)?.running === true;
  }

  /** What the index holds now. */
  info(): IndexInfo {
    const s = this.snap;
    return {
      sectionSize: s.sectionSize,
      confirmations: this.confirmations,
      sections: s.count,
      indexedHead: tailStartOf(s) - 1,
      head: headOf(s),
      tailLength: s.tailLength,
    };
  }

  /**
   * Indexes headers in ascending order: checks parent links, keeps unconfirmed
   * blocks in the tail (written every 1024 blocks and at the end), commits a
   * section in one atomic batch (with its tail clean-up) once its last block has
   * `confirmations` blocks on top, and skips blocks it already has.
   *
   * The index records its chain's block 0: a source serving another chain fails
   * with ChainError and changes nothing. On a reorg it finds the fork point
   * first (resubscribing a factory source from exponentially lower known blocks,
   * or replaying a plain source that starts at or below the fork), then rolls
   * back. A fork below the tail (rolling back committed sections) fails with
   * ChainError and changes nothing unless `allowDeepReorg` is set.
   *
   * One writer per db: a second run while one is active fails with IndexBusyError.
   */
  indexHeaders(source: HeaderSource, options: IndexHeadersOptions = {}): Observable<IndexProgress> {
    return new Observable<IndexProgress>((subscriber) => {
      const previous = writers.get(this.db);
      if (previous?.running === true) {
        subscriber.error(new IndexBusyError('another indexHeaders run is active on this db'));
        return;
      }
      let release!: () => void;
      const lock: WriterLock = { running: true, ended: false, done: new Promise<void>((r) => (release = r)) };
      writers.set(this.db, lock);
      const onSettled = () => {
        lock.running = false;
        lock.ended = true;
        release();
      };
      let inner: { unsubscribe(): void } | undefined;
      let cancelled = false;
      const begin = () => {
        if (cancelled) return onSettled();
        inner = ingestHeaders(this.writer(), source, options, onSettled).subscribe({
          next: (p) => subscriber.next(p),
          error: (e) => {
            lock.running = false;
            subscriber.error(e);
          },
          complete: () => {
            lock.running = false;
            subscriber.complete();
          },
        });
      };
      // A run unsubscribed in the middle of a write finishes that write before the next run starts.
      if (previous === undefined || previous.ended) begin();
      else void previous.done.then(begin);
      return () => {
        cancelled = true;
        lock.running = false;
        inner?.unsubscribe();
      };
    });
  }

  /** The writer side driven by the ingest loop. */
  private writer() {
    const size = this.sectionSize;
    return {
      snapshot: () => this.snap,
      accept: (h: ParsedHeader) => {
        const s = this.snap;
        const tail = s.tail as TailBlock[];
        tail.push({ number: h.number, hash: h.hash, bloom: h.bloom });
        this.snap = { ...s, tailLength: s.tailLength + 1, genesis: h.number === 0 ? h.hash : s.genesis };
        this.headsSubject.next(h.raw);
      },
      due: (idle: boolean): 'commit' | 'flush' | undefined => {
        const s = this.snap;
        const committedHead = (s.count + 1) * size - 1;
        if (s.tailLength >= size && headOf(s) - committedHead >= this.confirmations) return 'commit';
        if (idle && s.tailLength - this.persisted >= FLUSH_EVERY) return 'flush';
        return undefined;
      },
      commit: () => this.commit(),
      flush: () => this.flush(),
      rollback: (block: number) => this.rollback(block),
    };
  }

  private genesisOps(s: IndexSnapshot, includesBlock0: boolean): TailOp[] {
    if (this.genesisRecorded || !includesBlock0 || s.genesis === undefined) return [];
    return [{ type: 'put', key: GENESIS_KEY, value: s.genesis }];
  }

  private async flush(): Promise<void> {
    const s = this.snap;
    if (this.persisted >= s.tailLength) return;
    const blocks = s.tail.slice(this.persisted, s.tailLength);
    const ops = [...tailPuts(blocks), ...this.genesisOps(s, blocks[0]?.number === 0)];
    await this.tailStore.batch(ops);
    if (ops.length > blocks.length) this.genesisRecorded = true;
    this.persisted = s.tailLength;
  }

  private async commit(): Promise<void> {
    const s = this.snap;
    const size = this.sectionSize;
    const section = s.count;
    const generator = new BloomBitsGenerator(size);
    for (let i = 0; i < size; i++) generator.addBloom(i, s.tail[i]!.bloom);
    const head = s.tail[size - 1]!.hash;
    const start = section * size;
    const extra = [
      ...tailDels(start, start + Math.min(this.persisted, size)),
      ...this.genesisOps(s, section === 0),
    ];
    await this.store.writeSection(section, head, generator.vectors(), extra);
    if (section === 0) this.genesisRecorded = true;
    const heads = this.store.heads();
    s.generation.heads = heads;
    this.persisted = Math.max(0, this.persisted - size);
    this.snap = {
      ...s,
      count: section + 1,
      heads,
      tail: s.tail.slice(size, s.tailLength),
      tailLength: s.tailLength - size,
    };
  }

  /** Drops every block at or above `block` (tail entries, and whole sections when below the tail). */
  private async rollback(block: number): Promise<void> {
    await this.sweeping;
    const s = this.snap;
    const tailStart = tailStartOf(s);
    const dels = tailDels(Math.max(block, tailStart), tailStart + this.persisted);
    if (block >= tailStart) {
      await this.tailStore.batch(dels);
      const keep = block - tailStart;
      this.persisted = Math.min(this.persisted, keep);
      this.snap = { ...s, tail: s.tail.slice(0, keep), tailLength: keep };
      return;
    }
    const section = Math.floor(block / this.sectionSize);
    await this.store.rollbackTo(section, { extraOps: dels, sweep: false });
    const heads = this.store.heads();
    const old = s.generation;
    this.persisted = 0;
    this.snap = {
      ...s,
      generation: this.newGeneration(heads),
      count: section,
      heads,
      tail: [],
      tailLength: 0,
    };
    if (old.queries > 0) this.oldGenerations.add(old);
    this.sweepPending = true;
    await this.maybeSweep();
  }

  /** Deletes rolled-back vectors once no query of an older generation may read them. */
  private maybeSweep(): Promise<void> {
    if (!this.sweepPending || this.oldGenerations.size > 0) return this.sweeping;
    this.sweepPending = false;
    this.sweeping = this.store.sweep().catch(() => {
      this.sweepPending = true; // left for the next chance; unreferenced vectors are never read
    });
    return this.sweeping;
  }

  private newGeneration(heads: readonly Uint8Array[]): Generation {
    const generation: Generation = {
      id: this.generations++,
      heads,
      queries: 0,
      matcher: undefined as never,
    };
    // Reads under the generation's heads: a vector of a rolled-back section is never served to another chain.
    (generation as { matcher: Generation['matcher'] }).matcher = createMatcher({
      ...matcherOptions(this.options),
      sectionSize: this.store.sectionSize,
      retriever: ({ bit, sections }) => this.store.readVectors(bit, sections, generation.heads),
    });
    return generation;
  }

  /** Runs `query` on the current snapshot, keeping its generation's vectors alive while it runs. */
  private onSnapshot<T>(query: (s: IndexSnapshot) => Observable<T>): Observable<T> {
    return new Observable<T>((subscriber) => {
      const s = this.snap;
      const generation = s.generation;
      generation.queries++;
      let inner: ReturnType<Observable<T>['subscribe']> | undefined;
      try {
        inner = query(s).subscribe(subscriber);
      } catch (e) {
        subscriber.error(e);
      }
      return () => {
        inner?.unsubscribe();
        generation.queries--;
        if (generation.queries === 0 && this.oldGenerations.delete(generation)) void this.maybeSweep();
      };
    });
  }

  /**
   * Resolves a query range on a snapshot. `toBlock: 'latest'` (the default) is
   * the snapshot's head. An explicit `toBlock` past the head is clipped to it
   * while an `indexHeaders` run is active (the query answers for what its
   * snapshot holds), and is a BeyondHeadError otherwise.
   */
  private queryRange(
    s: IndexSnapshot,
    range: BlockRange,
  ): { fromBlock: number; toBlock: number } | undefined {
    const head = headOf(s);
    const explicit = range?.toBlock !== undefined && range.toBlock !== 'latest';
    if (head < 0 && !explicit) {
      // Nothing indexed: 'latest' is before any block. Still reject a malformed range.
      if (range === null || typeof range !== 'object') parseBlockRange(range);
      parseBlockRange({ ...range, toBlock: range.fromBlock ?? 0 });
      return undefined;
    }
    const { fromBlock, toBlock } = parseBlockRange(range, Math.max(head, 0));
    if (toBlock > head) {
      if (!this.indexing) {
        throw new BeyondHeadError(
          `toBlock ${toBlock} is past the indexed head ${head} and nothing is indexing`,
          head,
          toBlock,
        );
      }
      if (fromBlock > head) return undefined;
      return { fromBlock, toBlock: head };
    }
    return { fromBlock, toBlock };
  }

  /**
   * Candidate blocks of `filter` in `range`, ascending: the generation's matcher
   * over committed sections, then a header-bloom test over the tail, all on the
   * snapshot current at subscription (see the class comment). `toBlock:
   * 'latest'` (the default) is the highest block indexed.
   * @throws (as an error notification) BeyondHeadError for an explicit `toBlock`
   * past the head of an index nothing is indexing; InvalidRangeError; InvalidFilterError.
   */
  match(filter: LogFilter, range: BlockRange = {}): Observable<number> {
    return this.onSnapshot((s) => {
      const groups = compileFilter(filter);
      const r = this.queryRange(s, range);
      if (r === undefined) return EMPTY;
      const tailStart = tailStartOf(s);
      const indexed =
        r.fromBlock < tailStart
          ? s.generation.matcher.matchBits(groups, {
              fromBlock: r.fromBlock,
              toBlock: Math.min(r.toBlock, tailStart - 1),
            })
          : EMPTY;
      const lo = Math.max(r.fromBlock, tailStart);
      const unindexed =
        r.toBlock >= tailStart
          ? rangeOf(lo, r.toBlock - lo + 1).pipe(
              filterOp((n) => bloomTestGroups(tailBlockOf(s, n)!.bloom, groups)),
            )
          : EMPTY;
      return concat(indexed, unindexed);
    });
  }

  /**
   * The exact logs of `filter` in `range`: candidate blocks' logs from
   * `receipts`, filtered positionally, in (block, logIndex) order. Candidate
   * blocks are pulled with bounded buffering (at most `concurrency` fetches
   * running or waiting), whatever their number. Runs on one snapshot like
   * {@link match}; tail blocks are fetched pinned to their hash.
   * @throws (as an error notification) InvalidOptionError for a `receipts` that is
   * not a function or a `concurrency` that is not a positive integer, before anything runs.
   */
  logs(filter: LogFilter, range: BlockRange, options: LogsOptions): Observable<Log> {
    return defer(() => {
      const { receipts, concurrency } = checkLogsOptions(options);
      const normalized = normalizeFilter(filter);
      const groups = compileFilter(normalized as LogFilter);
      return this.onSnapshot((s) => {
        const r = this.queryRange(s, range);
        if (r === undefined) return EMPTY;
        const tailStart = tailStartOf(s);
        const size = s.sectionSize;
        const { fromBlock, toBlock } = r;
        const batches = (credits$: Observable<void>): Observable<Iterable<number>> => {
          const indexed =
            fromBlock < tailStart
              ? s.generation.matcher
                  .matchBatches(groups, { fromBlock, toBlock: Math.min(toBlock, tailStart - 1) }, credits$)
                  .pipe(map((batch) => blocksOfBatch(batch, size)))
              : EMPTY;
          const unindexed =
            toBlock >= tailStart
              ? of(tailCandidates(s, Math.max(fromBlock, tailStart), toBlock, groups))
              : EMPTY;
          return concat(indexed, unindexed);
        };
        const fetch = (number: number) => {
          const hash = tailBlockOf(s, number)?.hash ?? hashAt(s, number);
          return receipts({ number, hash: hash === undefined ? undefined : bytesToHex(hash) });
        };
        return fetchCandidates(batches, fetch, concurrency).pipe(
          concatMap((logs) => filterLogs(logs, normalized)),
        );
      });
    });
  }

  /**
   * History, then live: the logs of `filter` from `fromBlock` to the head, then
   * those of every block indexed from then on. It catches up from the index
   * itself (history to head h0, then h0+1 to the new head, and so on), so
   * nothing is buffered but what one catch-up step is fetching, and no block is
   * missed or delivered twice. A `fromBlock` past the head means live only,
   * from that block on. With `source`, it also runs `indexHeaders(source)`.
   */
  watch(filter: LogFilter, options: WatchOptions): Observable<Log> {
    return new Observable<Log>((subscriber) => {
      let checked: { receipts: LogsSource; concurrency: number };
      let done: number;
      try {
        checked = checkLogsOptions(options);
        normalizeFilter(filter);
        // Blocks up to `done` are delivered.
        done = parseBlockNumber(options.fromBlock ?? 0, Math.max(this.head, 0)) - 1;
      } catch (e) {
        subscriber.error(e);
        return;
      }
      let step: { unsubscribe(): void } | undefined;
      let running = false;
      let looping = false;
      // A loop, not recursion: a catch-up step that completes synchronously is followed by the next here.
      const kick = () => {
        if (looping) return;
        looping = true;
        try {
          while (!running && !subscriber.closed) {
            const to = this.head;
            if (to <= done) break;
            running = true;
            step = this.logs(filter, { fromBlock: done + 1, toBlock: to }, checked).subscribe({
              next: (log) => subscriber.next(log),
              error: (e) => subscriber.error(e),
              complete: () => {
                done = to;
                running = false;
                kick();
              },
            });
          }
        } finally {
          looping = false;
        }
      };
      const ticks = this.headsSubject.subscribe(() => kick());
      const indexing = options.source
        ? this.indexHeaders(options.source, { allowDeepReorg: options.allowDeepReorg }).subscribe({
            error: (e) => subscriber.error(e),
          })
        : undefined;
      kick();
      return () => {
        ticks.unsubscribe();
        step?.unsubscribe();
        indexing?.unsubscribe();
      };
    });
  }
}

/** The tail blocks of `s` in [from, to] whose bloom passes `groups`, lazily. */
function* tailCandidates(
  s: IndexSnapshot,
  from: number,
  to: number,
  groups: readonly (readonly (readonly number[])[])[],
): Generator<number, void, undefined> {
  for (let n = from; n <= to; n++) if (bloomTestGroups(tailBlockOf(s, n)!.bloom, groups)) yield n;
}

function checkLogsOptions(options: LogsOptions): { receipts: LogsSource; concurrency: number } {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError('options', 'must be an object with a receipts function');
  }
  if (typeof options.receipts !== 'function') {
    throw new InvalidOptionError('receipts', `must be a function, got ${typeof options.receipts}`);
  }
  const concurrency = options.concurrency ?? 4;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new InvalidOptionError('concurrency', `must be a positive integer, got ${String(concurrency)}`);
  }
  return { receipts: options.receipts, concurrency };
}

function matcherOptions(options: BloomIndexOptions) {
  return {
    workers: options.workers,
    batch: options.batch,
    cacheBytes: options.cacheBytes,
    scheduler: options.scheduler,
  };
}
