import { from, type Observable } from 'rxjs';
import type { BloomBitsStore } from './store.js';

/**
 * What a retriever is asked for: the vectors of one bloom bit for a few sections.
 * Stated here structurally so that the store does not depend on the matcher (any
 * matcher task with these fields fits).
 */
export interface VectorTask {
  bit: number;
  sections: number[];
}

/**
 * A retriever over a {@link BloomBitsStore}: one `getMany` per task. A missing
 * or corrupt vector is an error (a store does not heal by retrying), which the
 * matcher reports as a `RetrievalError`.
 */
export function storeRetriever(
  store: Pick<BloomBitsStore, 'readVectors'>,
): (task: VectorTask) => Observable<Uint8Array[]> {
  return ({ bit, sections }) => from(store.readVectors(bit, sections));
}
