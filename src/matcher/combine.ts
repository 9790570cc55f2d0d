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
  const words = (len & 3) === 0 ? new Uint32Array(buffer) : undefined;
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
      any |=
        words !== undefined
          ? orClauseWords(words, offset >>> 2, out, incoming, vs)
          : orClause(out, incoming, vs);
    }
    if (any !== 0) {
      sections.push(batch.sections[i]!);
      bitsets.push(out);
      used++;
    } // else: no bit was set, so the slot is still all zero and the next section reuses it
  }
  return { sections, bitsets };
}

/** out |= incoming & v0 & v1 & ...; returns non-zero when this clause set any bit. */
function orClause(out: Uint8Array, incoming: Uint8Array, vs: readonly Uint8Array[]): number {
  let any = 0;
  for (let k = 0; k < out.length; k++) {
    let x = incoming[k]!;
    for (let j = 0; j < vs.length && x !== 0; j++) x &= vs[j]![k]!;
    out[k]! |= x;
    any |= x;
  }
  return any;
}

/**
 * {@link orClause} 32 bits at a time for three-bit clauses on 4-byte-aligned inputs
 * (`words` views the whole output buffer; `at` is `out`'s first word).
 */
function orClauseWords(
  words: Uint32Array,
  at: number,
  out: Uint8Array,
  incoming: Uint8Array,
  vs: readonly Uint8Array[],
): number {
  if (vs.length !== 3) return orClause(out, incoming, vs);
  const a = vs[0]!;
  const b = vs[1]!;
  const c = vs[2]!;
  if (((incoming.byteOffset | a.byteOffset | b.byteOffset | c.byteOffset) & 3) !== 0) {
    return orClause(out, incoming, vs);
  }
  const w = out.length >>> 2;
  const i32 = new Uint32Array(incoming.buffer, incoming.byteOffset, w);
  const a32 = new Uint32Array(a.buffer, a.byteOffset, w);
  const b32 = new Uint32Array(b.buffer, b.byteOffset, w);
  const c32 = new Uint32Array(c.buffer, c.byteOffset, w);
  let any = 0;
  for (let k = 0; k < w; k++) {
    const x = i32[k]! & a32[k]! & b32[k]! & c32[k]!;
    words[at + k]! |= x;
    any |= x;
  }
  return any;
}
