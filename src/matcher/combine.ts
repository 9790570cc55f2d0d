import type { SectionBatch } from './types.js';

/**
 * One sub-matcher step for a batch: for each section, OR over clauses of the AND
 * of the clause's vectors, ANDed with the incoming bitset; sections left with no
 * bit set are dropped. `vectors[j][i]` is the vector of `bits[j]` for section i,
 * and `clauseBits` maps each clause to indexes into `bits`.
 */
export function combineGroup(
  batch: SectionBatch,
  clauseBits: readonly (readonly number[])[],
  vectors: readonly (readonly Uint8Array[])[],
): SectionBatch {
  const sections: number[] = [];
  const bitsets: Uint8Array[] = [];
  const n = batch.sections.length;
  for (let i = 0; i < n; i++) {
    const incoming = batch.bitsets[i]!;
    const out = new Uint8Array(incoming.length);
    let any = 0;
    for (let c = 0; c < clauseBits.length; c++) {
      const idx = clauseBits[c]!;
      any |= orClause(
        out,
        incoming,
        idx.map((j) => vectors[j]![i]!),
      );
    }
    if (any !== 0) {
      sections.push(batch.sections[i]!);
      bitsets.push(out);
    }
  }
  return { sections, bitsets };
}

/** out |= incoming & v0 & v1 & ...; returns non-zero when any bit of out was set by this clause. */
function orClause(out: Uint8Array, incoming: Uint8Array, vs: readonly Uint8Array[]): number {
  const len = out.length;
  let any = 0;
  if (vs.length === 3) {
    const a = vs[0]!;
    const b = vs[1]!;
    const c = vs[2]!;
    if (aligned(out, incoming, a, b, c)) {
      const w = len >>> 2;
      const o32 = view32(out);
      const i32 = view32(incoming);
      const a32 = view32(a);
      const b32 = view32(b);
      const c32 = view32(c);
      for (let k = 0; k < w; k++) {
        const x = i32[k]! & a32[k]! & b32[k]! & c32[k]!;
        o32[k]! |= x;
        any |= x;
      }
      for (let k = w << 2; k < len; k++) {
        const x = incoming[k]! & a[k]! & b[k]! & c[k]!;
        out[k]! |= x;
        any |= x;
      }
      return any;
    }
  }
  for (let k = 0; k < len; k++) {
    let x = incoming[k]!;
    for (let j = 0; j < vs.length && x !== 0; j++) x &= vs[j]![k]!;
    out[k]! |= x;
    any |= x;
  }
  return any;
}

function aligned(...arrays: Uint8Array[]): boolean {
  for (const a of arrays) if ((a.byteOffset & 3) !== 0) return false;
  return true;
}

function view32(a: Uint8Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length >>> 2);
}
