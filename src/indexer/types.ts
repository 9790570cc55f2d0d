import type { SchedulerLike } from 'rxjs';

/** Options of {@link BloomIndex.open}. */
export interface BloomIndexOptions {
  /** Blocks per section; a multiple of 8. Default 4096. */
  sectionSize?: number;
  /** Blocks on top of a section's last block before it is committed. Default 256. */
  confirmations?: number;
  /** Matcher workers (concurrent retrievals). Default 4 (see MatcherOptions.workers). */
  workers?: number;
  /** Sections per retrieval. Default 128 (see MatcherOptions.batch). */
  batch?: number;
  /** Bytes of the shared vector cache. Default 2 MiB (see MatcherOptions.cacheBytes). */
  cacheBytes?: number;
  /** Scheduler for matcher timers (tests). */
  scheduler?: SchedulerLike;
  /** Open the store read-only: queries work, `indexHeaders` fails on its first write. */
  readOnly?: boolean;
}

/** What {@link BloomIndex.indexHeaders} reports as it goes. */
export interface IndexProgress {
  /** Committed sections. */
  sections: number;
  /** Headers accepted by this run so far. */
  blocks: number;
  /** Highest block indexed (committed or in the tail); -1 before any. */
  headNumber: number;
  /** Headers per second over this run. */
  blocksPerSecond: number;
}

/** A summary of what an index holds. */
export interface IndexInfo {
  sectionSize: number;
  confirmations: number;
  /** Committed sections. */
  sections: number;
  /** Last block inside committed sections; -1 when none. */
  indexedHead: number;
  /** Highest block indexed including the tail; -1 when none. */
  head: number;
  /** Blocks in the unindexed tail. */
  tailLength: number;
}

/** Options of {@link BloomIndex.indexHeaders}. */
export interface IndexHeadersOptions {
  /**
   * Lets a reorg roll back committed sections (a fork below the first tail block).
   * Default false: such a reorg fails with `ChainError` and changes nothing.
   */
  allowDeepReorg?: boolean;
}
