import type { Matcher } from '../matcher/matcher.js';
import type { TailColumns } from './tailColumns.js';
import type { TailBlock } from './tailStore.js';

/**
 * The committed state a matcher reads: every snapshot of one generation agrees
 * on the heads of the sections they share (commits only append sections), so
 * their queries can share one vector cache. A rollback of committed sections
 * starts a new generation with its own matcher and cache: a vector read under
 * one chain is never served to a query on another.
 */
export interface Generation {
  readonly id: number;
  readonly matcher: Matcher;
  /** Heads of the generation's latest snapshot (replaced on each commit, only ever longer). */
  heads: readonly Uint8Array[];
  /** Queries running on a snapshot of this generation. */
  queries: number;
}

/**
 * One consistent state of the index, never mutated once published: commits,
 * tail appends, flushes and rollbacks publish a new snapshot. A query runs on
 * the snapshot current when it was subscribed to.
 */
export interface IndexSnapshot {
  readonly generation: Generation;
  readonly sectionSize: number;
  /** Committed sections (0..count-1). */
  readonly count: number;
  /** Head hash of each committed section. */
  readonly heads: readonly Uint8Array[];
  /**
   * Tail blocks from block `count * sectionSize`: entries `0..tailLength-1`. The
   * columns are shared with later snapshots, which may only append past
   * `tailLength` (a commit or rollback makes new columns).
   */
  readonly tail: TailColumns;
  readonly tailLength: number;
  /** Hash of block 0 of the chain held, when known. */
  readonly genesis: Uint8Array | undefined;
}

/** First block past the committed sections. */
export const tailStartOf = (s: IndexSnapshot): number => s.count * s.sectionSize;

/** Highest block indexed (committed or tail); -1 when empty. */
export const headOf = (s: IndexSnapshot): number => tailStartOf(s) + s.tailLength - 1;

/** The tail entry of `block` (views of its hash and bloom), if the snapshot's tail holds it. */
export function tailBlockOf(s: IndexSnapshot, block: number): TailBlock | undefined {
  const i = block - tailStartOf(s);
  return i >= 0 && i < s.tailLength
    ? { number: block, hash: s.tail.hash(i), bloom: s.tail.bloom(i) }
    : undefined;
}

/**
 * The hash of `block` when the snapshot knows it: a tail block, a committed
 * section's last block, or block 0 (recorded genesis).
 */
export function hashAt(s: IndexSnapshot, block: number): Uint8Array | undefined {
  if (block < 0) return undefined;
  const i = block - tailStartOf(s);
  if (i >= 0 && i < s.tailLength) return s.tail.hash(i);
  if (block === 0 && s.genesis !== undefined) return s.genesis;
  if (block < tailStartOf(s) && (block + 1) % s.sectionSize === 0)
    return s.heads[(block + 1) / s.sectionSize - 1];
  return undefined;
}

/** The highest block at or below `block` whose hash the snapshot knows (0 when none is known lower). */
export function knownAtOrBelow(s: IndexSnapshot, block: number): number {
  if (block <= 0) return 0;
  const tailStart = tailStartOf(s);
  if (block >= tailStart) return Math.min(block, headOf(s));
  const section = Math.floor((block + 1) / s.sectionSize) - 1;
  return section >= 0 ? section * s.sectionSize + s.sectionSize - 1 : 0;
}

/** Byte-wise equality of two hashes. */
export function sameHash(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
