import { Observable } from 'rxjs';
import type { SectionBatch } from './types.js';

/** What {@link sectionBatches} walks over. */
export interface SectionWalk {
  fromBlock: number;
  toBlock: number;
  sectionSize: number;
  /** Sections per emitted batch. */
  batch: number;
  /** Batches out before the first credit comes back. */
  lookahead: number;
}

/**
 * The head of the chain: the sections covering `[fromBlock, toBlock]` in batches,
 * each section with its all-ones bitset clipped to the range. Pull-driven: it
 * emits `lookahead` batches, then one more per value of `credits$`, so a query
 * over millions of blocks holds a bounded number of batches. Credits that come
 * back while it is emitting are counted, not recursed into. An error of
 * `credits$` errors the stream.
 *
 * ```
 * credits:  -----c---c---c--|      lookahead = 2, four batches
 * batches:  (ab)-c---d---|
 * ```
 */
export function sectionBatches(walk: SectionWalk, credits$: Observable<unknown>): Observable<SectionBatch> {
  const { fromBlock, toBlock, sectionSize, batch, lookahead } = walk;
  return new Observable<SectionBatch>((subscriber) => {
    const last = Math.floor(toBlock / sectionSize);
    const full = new Uint8Array(sectionSize / 8).fill(0xff);
    let next = Math.floor(fromBlock / sectionSize);
    let credit = lookahead;
    let emitting = false;
    const drain = () => {
      if (emitting) return;
      emitting = true;
      try {
        pump();
      } catch (error) {
        subscriber.error(error);
      } finally {
        emitting = false;
      }
      if (next > last && !subscriber.closed) subscriber.complete();
    };
    const pump = () => {
      while (credit > 0 && next <= last && !subscriber.closed) {
        credit--;
        const end = Math.min(last, next + batch - 1);
        const sections: number[] = [];
        const bitsets: Uint8Array[] = [];
        for (let s = next; s <= end; s++) {
          sections.push(s);
          bitsets.push(clip(full, s * sectionSize, fromBlock, toBlock));
        }
        next = end + 1;
        subscriber.next({ sections, bitsets });
      }
    };
    const subscription = credits$.subscribe({
      next: () => {
        credit++;
        drain();
      },
      error: (error) => subscriber.error(error),
    });
    drain();
    return subscription;
  });
}

/** The all-ones bitset of a section starting at `start`, with blocks outside the range cleared. */
function clip(full: Uint8Array, start: number, fromBlock: number, toBlock: number): Uint8Array {
  const size = full.length * 8;
  if (start >= fromBlock && start + size - 1 <= toBlock) return full;
  const out = new Uint8Array(full.length);
  const lo = Math.max(0, fromBlock - start);
  const hi = Math.min(size - 1, toBlock - start);
  for (let o = lo; o <= hi; o++) out[o >> 3]! |= 0x80 >> (o & 7);
  return out;
}
