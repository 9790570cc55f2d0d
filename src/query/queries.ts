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
} from 'rxjs';
import { bloomTestGroups } from '../bloom/index.js';
import { BeyondHeadError, BlockNotFoundError, ChainError, InvalidOptionError } from '../errors.js';
import { compileFilter } from '../filter/compileFilter.js';
import { filterLogs } from '../filter/filterLogs.js';
import { normalizeFilter } from '../filter/normalizeFilter.js';
import type { HeaderSource } from '../indexer/ingest.js';
import { hashAt, headOf, type IndexSnapshot, tailBlockOf, tailStartOf } from '../indexer/snapshot.js';
import { blocksOfBatch } from '../matcher/blockNumbers.js';
import { fetchCandidates } from '../operators/fetchCandidates.js';
import type { LogsSource } from '../sources/types.js';
import { parseBlockNumber, parseBlockRange } from '../types/blockNumber.js';
import type { BlockHeader, BlockRange, Log, LogFilter } from '../types/chain.js';
import { bytesToHex } from '../types/hex.js';

/*
 * The query side of an index: `match`, `logs` and `watch` over snapshots. Each
 * query runs entirely on the snapshot current when it is subscribed to (its
 * generation's matcher over committed sections, header blooms over the tail).
 */

/** Options of {@link logs}. */
export interface LogsOptions {
  /** Where candidate blocks' logs come from. */
  receipts: LogsSource;
  /** Blocks whose logs are fetched at once (a positive integer). Default 4. */
  concurrency?: number;
}

/**
 * How many new heads in a row `watch` waits, refetching, for a block the node says it does not
 * have (by the hash the index holds) before it fails with that `BlockNotFoundError`.
 */
const WATCH_NOT_FOUND_HEADS = 3;

/** Options of {@link watch}. */
export interface WatchOptions extends LogsOptions {
  /** First block of the history part. Default 0. */
  fromBlock?: BlockRange['fromBlock'];
  /** New headers to index while watching (omit when another `indexHeaders` run feeds the index). */
  source?: HeaderSource;
  /** Passed to the `indexHeaders` run of `source`. */
  allowDeepReorg?: boolean;
  /**
   * How many blocks below the head the watch keeps the logs it delivered, to retract
   * them (`removed: true`) if a reorg replaces their blocks. Default: the index's
   * `confirmations` (256 unless set). A reorg that replaces blocks whose logs were let
   * go fails the watch with ChainError. Memory: the delivered logs of that many blocks.
   */
  reorgDepth?: number;
}

/** What the queries need of an index: its snapshots, and its writer for `watch`. */
export interface QueryHost {
  /** The current snapshot. */
  snapshot(): IndexSnapshot;
  /** Runs `query` on the current snapshot, keeping its generation's vectors alive while it runs. */
  onSnapshot<T>(query: (s: IndexSnapshot) => Observable<T>): Observable<T>;
  /** True while an `indexHeaders` run is active on the index's db. */
  readonly indexing: boolean;
  /** The index's `confirmations` (the default reorg depth a watch prepares for). */
  readonly confirmations: number;
  /** Every header accepted into the index. */
  readonly heads$: Observable<BlockHeader>;
  indexHeaders(source: HeaderSource, options: { allowDeepReorg?: boolean | undefined }): Observable<unknown>;
}

/**
 * Resolves a query range on a snapshot. `toBlock: 'latest'` (the default) is
 * the snapshot's head. An explicit `toBlock` past the head is clipped to it
 * while an `indexHeaders` run is active (the query answers for what its
 * snapshot holds), and is a BeyondHeadError otherwise.
 */
function queryRange(
  host: QueryHost,
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
    if (!host.indexing) {
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
export function match(host: QueryHost, filter: LogFilter, range: BlockRange = {}): Observable<number> {
  return host.onSnapshot((s) => {
    const groups = compileFilter(filter);
    const r = queryRange(host, s, range);
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
export function logs(
  host: QueryHost,
  filter: LogFilter,
  range: BlockRange,
  options: LogsOptions,
): Observable<Log> {
  return defer(() => {
    const { receipts, concurrency } = checkLogsOptions(options);
    const normalized = normalizeFilter(filter);
    const groups = compileFilter(normalized as LogFilter);
    return host.onSnapshot((s) => {
      const r = queryRange(host, s, range);
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
 *
 * Reorgs: when the index replaces blocks the watch has already delivered (or
 * is fetching), their logs are delivered again with `removed: true`, as
 * `eth_subscribe('logs')` does, oldest first, and the new blocks' logs follow.
 * Applying each `removed` log as a retraction always leaves exactly the logs
 * of the chain the index holds. The delivered logs of the last `reorgDepth`
 * blocks (default: the index's `confirmations`) are kept for that; a reorg
 * deeper than what is kept fails the watch with ChainError rather than leave
 * logs of replaced blocks standing. A fetch of a tail block that the node no
 * longer has (`BlockNotFoundError`: a reorg the index has not seen yet) is tried
 * again at each new head, up to 3 heads in a row, before it fails the watch.
 */
export function watch(host: QueryHost, filter: LogFilter, options: WatchOptions): Observable<Log> {
  return new Observable<Log>((subscriber) => {
    let checked: { receipts: LogsSource; concurrency: number };
    let start: number;
    let depth: number;
    try {
      checked = checkLogsOptions(options);
      depth = options.reorgDepth ?? host.confirmations;
      if (!Number.isSafeInteger(depth) || depth < 0) {
        throw new InvalidOptionError('reorgDepth', `must be a non-negative integer, got ${String(depth)}`);
      }
      normalizeFilter(filter);
      start = parseBlockNumber(options.fromBlock ?? 0, Math.max(headOf(host.snapshot()), 0));
    } catch (e) {
      subscriber.error(e);
      return;
    }
    // Every block up to `done` has had all its logs delivered; `top` is the highest block a step
    // has fetched or is fetching (a parked step's blocks count: some of their logs may be out).
    let done = start - 1;
    let top = done;
    const kept = new DeliveredLogs();
    let step: { unsubscribe(): void } | undefined;
    // Which step is current: a cancelled step's late notifications are ignored.
    let stepId = 0;
    let running = false;
    let looping = false;
    // A step whose pinned block the node no longer has waits for the next head: the node has most
    // likely reorganised, and the index sees it soon (the reorg then refetches the new branch).
    let waitingForHead = false;
    let misses = 0;
    // A loop, not recursion: a catch-up step that completes synchronously is followed by the next here.
    const kick = () => {
      if (looping) return;
      looping = true;
      try {
        while (!running && !waitingForHead && !subscriber.closed) {
          const s = host.snapshot();
          const to = headOf(s);
          if (to <= done) break;
          running = true;
          top = to;
          const id = ++stepId;
          // Logs of blocks more than `depth` below the head are let go.
          const reachable = to - depth + 1;
          const stepped = logs(host, filter, { fromBlock: done + 1, toBlock: to }, checked).subscribe({
            next: (log) => {
              if (id !== stepId) return;
              const n = Number(log.blockNumber);
              // A block's logs arrive together and blocks in order: every block before n is complete.
              if (n - 1 > done) {
                done = n - 1;
                kept.forgetBelow(Math.min(n, reachable));
              }
              if (kept.add(n, log, id)) subscriber.next(log);
            },
            error: (e) => {
              if (id !== stepId) return;
              if (e instanceof BlockNotFoundError && e.hash !== undefined && misses < WATCH_NOT_FOUND_HEADS) {
                misses++;
                running = false;
                step = undefined;
                waitingForHead = true;
                return;
              }
              subscriber.error(e);
            },
            complete: () => {
              if (id !== stepId) return;
              misses = 0;
              done = to;
              kept.forgetBelow(Math.min(to + 1, reachable));
              running = false;
              step = undefined;
              kick();
            },
          });
          if (id !== stepId || !running) stepped.unsubscribe();
          else step = stepped;
        }
      } finally {
        looping = false;
      }
    };
    /** The index replaced the blocks above `fork`: retract what was delivered of them, fetch anew. */
    const reorg = (fork: number) => {
      if (fork < kept.forgottenTop) {
        subscriber.error(
          new ChainError(
            `watch: a reorg replaced the blocks from ${fork + 1}, but the logs it delivered for block ${kept.forgottenTop} were let go (more than reorgDepth ${depth} blocks below the head)`,
          ),
        );
        return;
      }
      if (running) {
        stepId++;
        running = false;
        step?.unsubscribe();
        step = undefined;
      }
      misses = 0;
      for (const log of kept.removeAbove(fork)) {
        if (subscriber.closed) return;
        subscriber.next({ ...log, removed: true });
      }
      if (fork < done) done = fork;
      if (fork < top) top = fork;
    };
    const ticks = host.heads$.subscribe((h) => {
      waitingForHead = false;
      // Only a rollback lets a header at or below a block already fetched in: a reorg.
      if (h.number >= start && h.number <= top) reorg(h.number - 1);
      kick();
    });
    const indexing = options.source
      ? host.indexHeaders(options.source, { allowDeepReorg: options.allowDeepReorg }).subscribe({
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

/**
 * The logs a watch delivered, by block (ascending), for the blocks a reorg may
 * still replace: what to retract then, and what not to deliver twice when a
 * cancelled step's blocks are fetched again.
 */
class DeliveredLogs {
  /** `step`: the catch-up step that first delivered the block's logs. */
  private readonly blocks: { number: number; step: number; logs: Log[] }[] = [];
  private first = 0;
  /** Blocks below this are no longer kept. */
  private floor = 0;
  /** The highest block whose delivered logs were let go (-1: none). */
  forgottenTop = -1;

  /**
   * Records `log` of block `n` from catch-up step `step` (blocks come in ascending order);
   * false if an earlier step delivered it already (a step delivers each log once, so only a
   * block a cancelled step had started is searched).
   */
  add(n: number, log: Log, step: number): boolean {
    let i = this.blocks.length - 1;
    while (i >= this.first && this.blocks[i]!.number > n) i--;
    const entry = i >= this.first ? this.blocks[i]! : undefined;
    if (entry?.number === n) {
      if (entry.step !== step && entry.logs.some((l) => sameLog(l, log))) return false;
      entry.logs.push(log);
    } else if (n >= this.floor) {
      this.blocks.splice(i + 1, 0, { number: n, step, logs: [log] });
    } else {
      this.forgottenTop = Math.max(this.forgottenTop, n);
    }
    return true;
  }

  /** Lets go of the blocks below `block`. */
  forgetBelow(block: number): void {
    if (block <= this.floor) return;
    this.floor = block;
    while (this.first < this.blocks.length && this.blocks[this.first]!.number < block) {
      this.forgottenTop = Math.max(this.forgottenTop, this.blocks[this.first]!.number);
      this.first++;
    }
    if (this.first > 1024 && this.first * 2 > this.blocks.length) {
      this.blocks.splice(0, this.first);
      this.first = 0;
    }
  }

  /** Takes out the logs of the blocks above `fork`, oldest first. */
  removeAbove(fork: number): Log[] {
    let i = this.blocks.length;
    while (i > this.first && this.blocks[i - 1]!.number > fork) i--;
    return this.blocks.splice(i).flatMap((b) => b.logs);
  }
}

/** The same log of the same block (a block's logs are told apart by their index). */
const sameLog = (a: Log, b: Log): boolean =>
  a.blockHash === b.blockHash && a.logIndex === b.logIndex && a.transactionHash === b.transactionHash;

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
