import { orAndInto } from '../bitutil/ops.js';
import type { SectionBatch } from './types.js';

/** Zeroed scratch bitsets per length: where sections are combined until one survives. */
const scratches = new Map<number, Uint8Array>();

/**
 * One sub-matcher step for a batch: for each section, OR over clauses of the AND
 * of the clause's vectors, ANDed with the incoming bitset; sections left with no
 * bit set are dropped. `vectors[j][i]` is the vector of `bits[j]` for section i,
 * and `clauseBits` maps each clause to indexes into `bits`.
 * Output bitsets share one buffer per batch, made at the first survivor: until then
 * sections are combined into a shared zeroed scratch (a section ruled out leaves its
 * bitset all zero, so the next one reuses it), so batches that die allocate nothing.
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
  const stride = (len + 7) & ~7;
  let scratch = scratches.get(len);
  if (scratch === undefined) scratches.set(len, (scratch = new Uint8Array(stride).subarray(0, len)));
  let buffer: ArrayBuffer | undefined;
  let out = scratch;
  const clauseVectors: Uint8Array[][] = clauseBits.map((idx) => new Array(idx.length));
  for (let i = 0; i < n; i++) {
    const incoming = batch.bitsets[i]!;
    let any = 0;
    for (let c = 0; c < clauseBits.length; c++) {
      const idx = clauseBits[c]!;
      const vs = clauseVectors[c]!;
      for (let j = 0; j < idx.length; j++) vs[j] = vectors[idx[j]!]![i]!;
      any |= orAndInto(out, incoming, vs);
    }
    if (any === 0) continue; // no bit was set: `out` is still all zero for the next section
    if (buffer === undefined) {
      // The first survivor moves from the scratch into the batch's buffer.
      buffer = new ArrayBuffer(stride * (n - i));
      const first = new Uint8Array(buffer, 0, len);
      first.set(scratch);
      scratch.fill(0);
      out = first;
    }
    sections.push(batch.sections[i]!);
    bitsets.push(out);
    // The next slot (survivors never outnumber the slots: n - first survivor's index).
    if (i + 1 < n) out = new Uint8Array(buffer, stride * sections.length, len);
  }
  return { sections, bitsets };
}
