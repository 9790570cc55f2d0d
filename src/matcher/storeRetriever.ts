import { from } from 'rxjs';
import type { BloomBitsStore } from '../store/index.js';
import type { Retriever } from './types.js';

/**
 * A retriever over a {@link BloomBitsStore}: one `getMany` per task. A missing
 * or corrupt vector is an error (a store does not heal by retrying), which the
 * matcher reports as a `RetrievalError`.
 */
export function storeRetriever(store: Pick<BloomBitsStore, 'readVectors'>): Retriever {
  return ({ bit, sections }) => from(store.readVectors(bit, sections));
}
