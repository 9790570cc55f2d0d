import type { AbstractLevel } from 'abstract-level';
import {
  catchError,
  concat,
  concatMap,
  defer,
  EMPTY,
  filter as filterOp,
  from,
  mergeMap,
  Observable,
  type ObservableInput,
  ReplaySubject,
  range as rangeOf,
  Subject,
  throwError,
} from 'rxjs';
import { bytesToHex, type Hex, hexToBytes } from '../bloom/hex.js';
import { bloomTestGroups } from '../bloom/index.js';
import { BLOOM_BYTE_LENGTH, DEFAULT_CONFIRMATIONS, HASH_LENGTH } from '../constants.js';
import { BloomBitsError, ChainError, InvalidHexError } from '../errors.js';
import { parseBlockNumber, parseBlockRange } from '../filter/blockNumber.js';
import { compileFilter } from '../filter/compileFilter.js';
import { filterLogs } from '../filter/filterLogs.js';
import { normalizeFilter } from '../filter/normalizeFilter.js';
import type { BlockHeader, BlockRange, Log, LogFilter } from '../filter/types.js';
import { BloomBitsGenerator } from '../generator/index.js';
import { createMatcher, type Matcher } from '../matcher/matcher.js';
import { storeRetriever } from '../matcher/storeRetriever.js';
import type { LogsSource } from '../sources/types.js';
import { BloomBitsStore } from '../store/index.js';
import { concatMapEager } from './concatMapEager.js';
import { type TailBlock, TailStore } from './tailStore.js';
import type { BloomIndexOptions, IndexInfo, IndexProgress } from './types.js';

/** Headers to index: an Observable, or a factory that can restart from a lower block after a reorg. */
export type HeaderSource =
  | ObservableInput<BlockHeader>
  | ((fromBlock: number) => ObservableInput<BlockHeader>);

/** Options of {@link BloomIndex.logs}. */
export interface LogsOptions {
  /** Where candidate blocks' logs come from. */
  receipts: LogsSource;
  /** Blocks whose logs are fetched at once. Default 4. */
  concurrency?: number;
}

/** Options of {@link BloomIndex.watch}. */
export interface WatchOptions extends LogsOptions {
  /** First block of the history part. Default 0. */
  fromBlock?: BlockRange['fromBlock'];
  /** New headers to index while watching (omit when another `indexHeaders` run feeds the index). */
  source?: HeaderSource;
}

/** Asks the ingest loop to resubscribe the source from a lower block. */
class RestartFrom {
  constructor(readonly block: number) {}
}

const FLUSH_EVERY = 1024;
/** Restarts from one block in a row before the source is declared inconsistent. */
const MAX_SAME_RESTARTS = 3;

/**
 * The facade: a bloom-bits store over an injected abstract-level db, one shared
 * matcher for every query, and the unindexed tail (blocks not yet in a committed
 * section, answered from their header blooms).
 */
export class BloomIndex {
  private count: number;
  /** Tail blocks in order; tail[i] is block `tailStart + i`. */
  private tail: TailBlock[];
  private persisted: number;
  private indexing = false;
  private readonly heads = new Subject<BlockHeader>();

  private constructor(
    readonly store: BloomBitsStore,
    readonly matcher: Matcher,
    private readonly tailStore: TailStore,
    readonly confirmations: number,
    count: number,
    tail: TailBlock[],
    private lastSectionHead: Uint8Array | undefined,
  ) {
    this.count = count;
    this.tail = tail;
    this.persisted = tail.length;
  }

  /**
   * Opens (or creates) an index in `db`. The db is not closed by the index.
   * @throws BloomBitsError subclasses on a corrupt or mismatched store.
   */
  // biome-ignore lint/suspicious/noExplicitAny: any abstract-level flavour (classic, memory, browser, sublevel)
  static async open(db: AbstractLevel<any, any, any>, options: BloomIndexOptions = {}): Promise<BloomIndex> {
    const confirmations = options.confirmations ?? DEFAULT_CONFIRMATIONS;
    if (!Number.isInteger(confirmations) || confirmations < 0) {
      throw new RangeError(`confirmations must be a non-negative integer, got ${confirmations}`);
    }
    const store = await BloomBitsStore.open(db, { sectionSize: options.sectionSize });
    const matcher = createMatcher({
      retriever: storeRetriever(store),
      sectionSize: store.sectionSize,
      workers: options.workers,
      batch: options.batch,
      cacheBytes: options.cacheBytes,
      scheduler: options.scheduler,
    });
    const tailStore = new TailStore(db);
    const count = await store.storedSections();
    await tailStore.truncateBelow(count * store.sectionSize);
    const tail = await tailStore.load(count * store.sectionSize);
    const head = count > 0 ? await store.sectionHead(count - 1) : undefined;
    return new BloomIndex(store, matcher, tailStore, confirmations, count, tail, head);
  }

  /** Blocks per section. */
  get sectionSize(): number {
    return this.store.sectionSize;
  }

  private get tailStart(): number {
    return this.count * this.sectionSize;
  }

  /** Highest block indexed (committed or tail), -1 when empty. */
  get head(): number {
    return this.tailStart + this.tail.length - 1;
  }

  /** The block an indexing run should start from to continue this index. */
  get nextBlock(): number {
    return this.head + 1;
  }

  /** Every header accepted into the index, as it is accepted. */
  get heads$(): Observable<BlockHeader> {
    return this.heads.asObservable();
  }

  /** What the index holds now. */
  info(): IndexInfo {
    return {
      sectionSize: this.sectionSize,
      confirmations: this.confirmations,
      sections: this.count,
      indexedHead: this.tailStart - 1,
      head: this.head,
      tailLength: this.tail.length,
    };
  }

  /**
   * Indexes headers in ascending order: checks parent links, keeps unconfirmed
   * blocks in the tail (persisted every 1024 blocks and at the end), commits a
   * section in one batch once its last block has `confirmations` blocks on top,
   * skips blocks it already has, and on a reorg rolls back what changed. With a
   * factory source, a reorg below the current header resubscribes from lower.
   */
  indexHeaders(source: HeaderSource): Observable<IndexProgress> {
    return defer(() => {
      if (this.indexing) throw new BloomBitsError('an indexHeaders run is already active on this index');
      this.indexing = true;
      const started = Date.now();
      let accepted = 0;
      const progress = (): IndexProgress => ({
        sections: this.count,
        blocks: accepted,
        headNumber: this.head,
        blocksPerSecond: accepted / Math.max(1e-3, (Date.now() - started) / 1000),
      });
      // A source that keeps restarting from the same block does not link up: give up after a few.
      let lastRestart = -1;
      let repeats = 0;
      const run = (fromBlock: number): Observable<IndexProgress> =>
        defer(() => from(typeof source === 'function' ? source(fromBlock) : source)).pipe(
          concatMap((header) =>
            this.ingest(header, typeof source === 'function', () => accepted++, progress),
          ),
          catchError((e) => {
            if (!(e instanceof RestartFrom)) return throwError(() => e);
            repeats = e.block === lastRestart ? repeats + 1 : 0;
            lastRestart = e.block;
            if (repeats >= MAX_SAME_RESTARTS) {
              return throwError(
                () =>
                  new ChainError(
                    `block ${e.block + 1} from the source does not build on block ${e.block} from the same source`,
                  ),
              );
            }
            return run(e.block);
          }),
        );
      return concat(
        run(this.nextBlock),
        defer(async () => {
          await this.flush();
          return progress();
        }),
      ).pipe(
        catchError((e) =>
          from(this.flush().catch(() => undefined)).pipe(mergeMap(() => throwError(() => e))),
        ),
        (o) =>
          new Observable<IndexProgress>((subscriber) => {
            const s = o.subscribe(subscriber);
            return () => {
              s.unsubscribe();
              this.indexing = false;
            };
          }),
      );
    });
  }

  /** Accepts one header; emits progress when it committed or flushed something. */
  private ingest(
    header: BlockHeader,
    canRestart: boolean,
    onAccept: () => void,
    progress: () => IndexProgress,
  ): Observable<IndexProgress> {
    const h = parseHeader(header);
    const next = this.nextBlock;
    if (h.number > next) throw new ChainError(`headers skip from block ${next} to ${h.number}`);
    if (h.number < next) {
      const known = this.hashAt(h.number);
      // Inside a committed section (not its last block) nothing is left to compare with.
      if (known === undefined || equal(known, h.hash)) return EMPTY;
      return from(this.rollback(h.number)).pipe(
        mergeMap(() => {
          if (this.nextBlock < h.number) {
            if (canRestart) throw new RestartFrom(this.nextBlock);
            throw new ChainError(
              `reorg at block ${h.number} reaches below the source's first header; pass a factory source`,
            );
          }
          return this.ingest(header, canRestart, onAccept, progress);
        }),
      );
    }
    if (h.number > 0) {
      const parent = this.hashAt(h.number - 1);
      if (parent !== undefined && !equal(parent, h.parentHash)) {
        if (!canRestart) {
          throw new ChainError(
            `block ${h.number} does not build on the indexed block ${h.number - 1} (reorg)`,
          );
        }
        return from(this.rollback(h.number - 1)).pipe(
          mergeMap(() => throwError(() => new RestartFrom(this.nextBlock))),
        );
      }
    }
    this.tail.push({ number: h.number, hash: h.hash, bloom: h.bloom });
    onAccept();
    this.heads.next(header);
    const due = this.head - ((this.count + 1) * this.sectionSize - 1) >= this.confirmations;
    if (due && this.tail.length >= this.sectionSize) return from(this.commit().then(progress));
    if (this.tail.length - this.persisted >= FLUSH_EVERY) return from(this.flush().then(progress));
    return EMPTY;
  }

  /** The hash of `block` if the index knows it (tail, or a committed section's last block). */
  private hashAt(block: number): Uint8Array | undefined {
    if (block >= this.tailStart) return this.tail[block - this.tailStart]?.hash;
    if (block === this.tailStart - 1) return this.lastSectionHead;
    return undefined;
  }

  private async flush(): Promise<void> {
    if (this.persisted >= this.tail.length) return;
    await this.tailStore.write(this.tail.slice(this.persisted));
    this.persisted = this.tail.length;
  }

  private async commit(): Promise<void> {
    const size = this.sectionSize;
    const section = this.count;
    const generator = new BloomBitsGenerator(size);
    for (let i = 0; i < size; i++) generator.addBloom(i, this.tail[i]!.bloom);
    const head = this.tail[size - 1]!.hash;
    await this.store.writeSection(section, head, generator.vectors());
    this.count++;
    this.lastSectionHead = head;
    this.tail = this.tail.slice(size);
    this.persisted = Math.max(0, this.persisted - size);
    await this.tailStore.write([], section * size, (section + 1) * size);
  }

  /** Drops every block at or above `block` (tail entries, and whole sections if needed). */
  private async rollback(block: number): Promise<void> {
    if (block >= this.tailStart) {
      this.tail.length = Math.max(0, block - this.tailStart);
      this.persisted = Math.min(this.persisted, this.tail.length);
      await this.tailStore.truncate(block);
      return;
    }
    const section = Math.floor(block / this.sectionSize);
    await this.store.rollbackTo(section);
    this.count = section;
    this.tail = [];
    this.persisted = 0;
    this.lastSectionHead = section > 0 ? await this.store.sectionHead(section - 1) : undefined;
    await this.tailStore.truncate(section * this.sectionSize);
    this.matcher.clearCache();
  }

  /**
   * Candidate blocks of `filter` in `range`, ascending: the shared matcher over
   * committed sections, then a header-bloom test over the tail. `toBlock:
   * 'latest'` (the default) is the highest block indexed; ends past it are clipped.
   */
  match(filter: LogFilter, range: BlockRange = {}): Observable<number> {
    return defer(() => {
      const groups = compileFilter(filter);
      const head = this.head;
      if (head < 0) return EMPTY;
      const { fromBlock, toBlock: requested } = parseBlockRange(range, head);
      const toBlock = Math.min(requested, head);
      if (fromBlock > toBlock) return EMPTY;
      const tailStart = this.tailStart;
      const tail = this.tail;
      const indexed =
        fromBlock < tailStart
          ? this.matcher.matchBits(groups, { fromBlock, toBlock: Math.min(toBlock, tailStart - 1) })
          : EMPTY;
      const lo = Math.max(fromBlock, tailStart);
      const unindexed =
        toBlock >= tailStart
          ? rangeOf(lo, toBlock - lo + 1).pipe(
              filterOp((n) => {
                return bloomTestGroups(tail[n - tailStart]!.bloom, groups);
              }),
            )
          : EMPTY;
      return concat(indexed, unindexed);
    });
  }

  /**
   * The exact logs of `filter` in `range`: candidate blocks' logs from
   * `receipts`, filtered positionally, in (block, logIndex) order.
   */
  logs(filter: LogFilter, range: BlockRange, options: LogsOptions): Observable<Log> {
    return defer(() => {
      const normalized = normalizeFilter(filter);
      return this.match(normalized as LogFilter, range).pipe(
        concatMapEager(
          (number) => options.receipts({ number, hash: this.tailHash(number) }),
          options.concurrency ?? 4,
        ),
        concatMap((logs) => filterLogs(logs, normalized)),
      );
    });
  }

  /**
   * History, then live: the logs of `filter` from `fromBlock` to the current
   * head, then those of every block indexed from then on.
   */
  watch(filter: LogFilter, options: WatchOptions): Observable<Log> {
    return defer(() => {
      const normalized = normalizeFilter(filter);
      const groups = compileFilter(normalized as LogFilter);
      const since = this.head;
      const live = new ReplaySubject<BlockHeader>();
      const liveSub = this.heads.subscribe(live);
      const indexing = options.source
        ? this.indexHeaders(options.source).subscribe({ error: (e) => live.error(e) })
        : undefined;
      const from = parseBlockNumber(options.fromBlock ?? 0, since);
      // A start past the head means "live only".
      const history =
        since >= 0 && from <= since ? this.logs(filter, { fromBlock: from, toBlock: since }, options) : EMPTY;
      const future = live.pipe(
        filterOp((h) => h.number > since && h.number >= from),
        filterOp((h) => {
          return bloomTestGroups(hexToBytes(h.logsBloom, BLOOM_BYTE_LENGTH), groups);
        }),
        concatMapEager((h) => options.receipts({ number: h.number, hash: h.hash }), options.concurrency ?? 4),
        concatMap((logs) => filterLogs(logs, normalized)),
      );
      return new Observable<Log>((subscriber) => {
        const s = concat(history, future).subscribe(subscriber);
        return () => {
          s.unsubscribe();
          indexing?.unsubscribe();
          liveSub.unsubscribe();
        };
      });
    });
  }

  private tailHash(block: number): Hex | undefined {
    const entry = block >= this.tailStart ? this.tail[block - this.tailStart] : undefined;
    return entry ? bytesToHex(entry.hash) : undefined;
  }
}

interface ParsedHeader {
  number: number;
  hash: Uint8Array;
  parentHash: Uint8Array;
  bloom: Uint8Array;
}

function parseHeader(header: BlockHeader): ParsedHeader {
  if (header === null || typeof header !== 'object') throw new ChainError('header must be an object');
  const { number } = header;
  if (!Number.isSafeInteger(number) || number < 0)
    throw new ChainError(`bad header number: ${String(number)}`);
  try {
    return {
      number,
      hash: hexToBytes(header.hash, HASH_LENGTH),
      parentHash: hexToBytes(header.parentHash, HASH_LENGTH),
      bloom: hexToBytes(header.logsBloom, BLOOM_BYTE_LENGTH),
    };
  } catch (e) {
    if (e instanceof InvalidHexError) throw new ChainError(`bad header ${number}: ${e.message}`);
    throw e;
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
