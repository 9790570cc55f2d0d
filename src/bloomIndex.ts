import type { Observable } from 'rxjs';
import { DEFAULT_CONFIRMATIONS } from './constants.js';
import { CorruptDataError, InvalidOptionError } from './errors.js';
import type { HeaderSource } from './indexer/ingest.js';
import { headOf, type IndexSnapshot, sameHash, tailStartOf } from './indexer/snapshot.js';
import { TailStore } from './indexer/tailStore.js';
import type { BloomIndexOptions, IndexHeadersOptions, IndexInfo, IndexProgress } from './indexer/types.js';
import { IndexWriter } from './indexer/writer.js';
import { createMatcher } from './matcher/matcher.js';
import { type LogsOptions, logs, match, type WatchOptions, watch } from './query/queries.js';
import type { BloomBitsDb } from './store/db.js';
import { BloomBitsStore } from './store/index.js';
import type { BlockHeader, BlockRange, Log, LogFilter } from './types/chain.js';

export type { HeaderSource } from './indexer/ingest.js';
export type { LogsOptions, WatchOptions } from './query/queries.js';

/**
 * The facade: a bloom-bits store over an injected abstract-level db, a matcher
 * per committed-state generation, and the unindexed tail (blocks not yet in a
 * committed section, answered from their header blooms). It composes the write
 * side ({@link IndexWriter}: ingest, commits, rollbacks) with the queries
 * (`match`, `logs`, `watch` in src/query), which only read snapshots.
 *
 * Consistency: the index state is an immutable {@link IndexSnapshot}, replaced
 * by every accepted header, commit, flush and rollback. A query (`match`,
 * `logs`) runs entirely on the snapshot current when it is subscribed to: a
 * reorg or commit happening meanwhile never changes its answer, which is
 * exactly the answer the index gave at that moment (vectors of sections rolled
 * back meanwhile stay readable under their old heads until no such query runs).
 */
export class BloomIndex {
  private constructor(
    readonly store: BloomBitsStore,
    readonly confirmations: number,
    private readonly writer: IndexWriter,
  ) {}

  /**
   * Opens an index in `db` (created on the first write). Opening reads and
   * never writes. The db is not closed by the index.
   * @throws InvalidOptionError on a bad option; other BloomBitsError subclasses on a corrupt or mismatched store.
   * @example
   * ```ts
   * const db = new Level<Uint8Array, Uint8Array>('./chain-index', { keyEncoding: 'view', valueEncoding: 'view' });
   * const index = await BloomIndex.open(db, { confirmations: 64 });
   * ```
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
    // Reads under the generation's heads: a vector of a rolled-back section is never served to another chain.
    const newMatcher = (heads: () => readonly Uint8Array[]) =>
      createMatcher({
        ...matcherOptions(options),
        sectionSize: store.sectionSize,
        retriever: ({ bit, sections }) => store.readVectors(bit, sections, heads()),
      });
    const writer = new IndexWriter(
      db,
      store,
      tailStore,
      confirmations,
      newMatcher,
      blocks,
      genesis ?? first?.hash,
      genesis !== undefined,
    );
    return new BloomIndex(store, confirmations, writer);
  }

  /** Blocks per section. */
  get sectionSize(): number {
    return this.store.sectionSize;
  }

  /** Highest block indexed (committed or tail), -1 when empty. */
  get head(): number {
    return headOf(this.writer.snapshot());
  }

  /** The block an indexing run should start from to continue this index. */
  get nextBlock(): number {
    return this.head + 1;
  }

  /** Every header accepted into the index, as it is accepted (a reorg's new blocks included). */
  get heads$(): Observable<BlockHeader> {
    return this.writer.heads$;
  }

  /** The current state (immutable; a later change publishes a new one). */
  snapshot(): IndexSnapshot {
    return this.writer.snapshot();
  }

  /** True while an `indexHeaders` run (of any BloomIndex on this db) is active. */
  get indexing(): boolean {
    return this.writer.indexing;
  }

  /** What the index holds now. */
  info(): IndexInfo {
    const s = this.writer.snapshot();
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
   * @example
   * ```ts
   * // A factory source lets a reorg restart from lower blocks.
   * await lastValueFrom(index.indexHeaders((from) => rpcHeaders(url, { fromBlock: from })), { defaultValue: undefined });
   * ```
   */
  indexHeaders(source: HeaderSource, options: IndexHeadersOptions = {}): Observable<IndexProgress> {
    return this.writer.indexHeaders(source, options);
  }

  /**
   * Candidate blocks of `filter` in `range`, ascending: the generation's matcher
   * over committed sections, then a header-bloom test over the tail, all on the
   * snapshot current at subscription (see the class comment). `toBlock:
   * 'latest'` (the default) is the highest block indexed.
   * @throws (as an error notification) BeyondHeadError for an explicit `toBlock`
   * past the head of an index nothing is indexing; InvalidRangeError; InvalidFilterError.
   * @example
   * ```ts
   * index.match({ address: token, topics: [TRANSFER] }, { fromBlock: 0, toBlock: 'latest' })
   *   .subscribe((block) => console.log('candidate', block));
   * ```
   */
  match(filter: LogFilter, range: BlockRange = {}): Observable<number> {
    return match(this.writer, filter, range);
  }

  /**
   * The exact logs of `filter` in `range`: candidate blocks' logs from
   * `receipts`, filtered positionally, in (block, logIndex) order. Candidate
   * blocks are pulled with bounded buffering (at most `concurrency` fetches
   * running or waiting), whatever their number. Runs on one snapshot like
   * {@link match}; tail blocks are fetched pinned to their hash.
   * @throws (as an error notification) InvalidOptionError for a `receipts` that is
   * not a function or a `concurrency` that is not a positive integer, before anything runs.
   * @example
   * ```ts
   * const logs = await lastValueFrom(
   *   index.logs(filter, { fromBlock: 0, toBlock: 'latest' }, { receipts: rpcReceipts(url) }).pipe(toArray()),
   * );
   * ```
   */
  logs(filter: LogFilter, range: BlockRange, options: LogsOptions): Observable<Log> {
    return logs(this.writer, filter, range, options);
  }

  /**
   * History, then live: the logs of `filter` from `fromBlock` to the head, then
   * those of every block indexed from then on. It catches up from the index
   * itself (history to head h0, then h0+1 to the new head, and so on), so
   * nothing is buffered but what one catch-up step is fetching, and no block is
   * missed or delivered twice. A `fromBlock` past the head means live only,
   * from that block on. With `source`, it also runs `indexHeaders(source)`.
   * @example
   * ```ts
   * const sub = index
   *   .watch(filter, { receipts: rpcReceipts(url), source: (from) => liveHeaders(url, { fromBlock: from }) })
   *   .subscribe((log) => console.log(log.blockNumber, log.transactionHash));
   * // later: sub.unsubscribe() stops the watch and the indexing it started.
   * ```
   */
  watch(filter: LogFilter, options: WatchOptions): Observable<Log> {
    return watch(this.writer, filter, options);
  }
}

function matcherOptions(options: BloomIndexOptions) {
  return {
    workers: options.workers,
    batch: options.batch,
    cacheBytes: options.cacheBytes,
    scheduler: options.scheduler,
  };
}
