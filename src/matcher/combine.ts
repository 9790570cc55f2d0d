import { orAndInto } from '../bitutil/ops.js';
import type { SectionBatch } from './types.js';

/**
 * One sub-matcher step for a batch: for each section, OR over clauses of the AND
 * of the clause's vectors, ANDed with the incoming bitset; sections left with no
 * bit set are dropped. `vectors[j][i]` is the vector of `bits[j]` for section i,
 * and `clauseBits` maps each clause to indexes into `bits`.
 * The batch's output bitsets share one buffer: one allocation per batch, not per section.
 */
export function combineGroup(
  batch: SectionBatch,
  clauseBits: readonly (readonly number[])[],
  vectors: readonly (readonly Uint8Array[])[],
): SectionBatch {
  const sections: number[] = [];
  const bitsets: Uint8Array[] = [];
  const n = batch.sections.length;
  if (n === 0) return { sections, bitsets };
  const len = batch.bitsets[0]!.length;
  const stride = (len + 3) & ~3;
  const buffer = new ArrayBuffer(stride * n);
  const clauseVectors: Uint8Array[][] = clauseBits.map((idx) => new Array(idx.length));
  let used = 0;
  for (let i = 0; i < n; i++) {
    const incoming = batch.bitsets[i]!;
    const offset = used * stride;
    const out = new Uint8Array(buffer, offset, len);
    let any = 0;
    for (let c = 0; c < clauseBits.length; c++) {
      const idx = clauseBits[c]!;
      const vs = clauseVectors[c]!;
      for (let j = 0; j < idx.length; j++) vs[j] = vectors[idx[j]!]![i]!;
      any |= orAndInto(out, incoming, vs);
    }
    if (any !== 0) {
      sections.push(batch.sections[i]!);
      bitsets.push(out);
      used++;
    } // else: no bit was set, so the slot is still all zero and the next section reuses it
  }
  return { sections, bitsets };
}
