import type { ObservableInput } from 'rxjs';

/** One retrieval task: the vectors of one bloom bit for a few sections. */
export interface RetrievalTask {
  bit: number;
  sections: number[];
  /** Aborted when no consumer wants the result any more. */
  signal: AbortSignal;
}

/**
 * Loads bit vectors. Must answer with one entry per requested section, in order;
 * `undefined` marks a vector that is missing for now and will be asked for again.
 */
export type Retriever = (task: RetrievalTask) => ObservableInput<(Uint8Array | undefined)[]>;

/** Three bloom bit indexes that must all be set (one address or topic). */
export type Clause = readonly number[];

/** Clauses ORed together (one filter position). */
export type ClauseGroup = readonly Clause[];

/**
 * A batch of sections travelling down the sub-matcher chain. `bitsets[i]` is the
 * candidate bitset of `sections[i]` (bit o ⇔ block `section * sectionSize + o`,
 * MSB-first). Batches never shrink to nothing on the way: an empty batch still
 * flows so that every stage stays one-to-one with its input.
 */
export interface SectionBatch {
  sections: number[];
  bitsets: Uint8Array[];
}
