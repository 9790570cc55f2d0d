/**
 * Bitwise operations over byte arrays: the inner loop of the matcher (AND of
 * three vectors per clause, OR across clauses, "any bit left?").
 *
 * Every function works on `n = min(lengths)` bytes and returns `n`, so callers
 * may pass a larger scratch `dst`. `dst` may alias `a` or `b` (element i is read
 * before it is written). When every operand starts on a 4-byte boundary the
 * bulk runs on 32-bit words (about twice as fast as bytes in V8); the tail and
 * unaligned operands run byte by byte. No per-byte work allocates: the only
 * allocations are the constant-size word views.
 */

/** True when all given byte offsets are 4-byte aligned, so Uint32Array views are possible. */
function aligned(a: Uint8Array, b: Uint8Array, c: Uint8Array): boolean {
  return ((a.byteOffset | b.byteOffset | c.byteOffset) & 3) === 0;
}

/** A 32-bit word view over the first `words` words of `u8` (must be 4-aligned). */
function words(u8: Uint8Array, count: number): Uint32Array {
  return new Uint32Array(u8.buffer, u8.byteOffset, count);
}

/**
 * Word views of whole buffers for the hot kernels, one remembered per operand position:
 * the matcher passes arrays carved from a few shared buffers (decoder slabs, a batch's
 * bitsets) over and over, and a fresh view per call (~0.1 µs, plus its garbage) cost more
 * than the AND itself. Index a view at `u8.byteOffset >>> 2`.
 */
const viewBuffers: (ArrayBufferLike | undefined)[] = [undefined, undefined, undefined, undefined, undefined];
const views: Uint32Array[] = [];

function wordsOf(u8: Uint8Array, slot: number): Uint32Array {
  const buffer = u8.buffer;
  // (A resizable buffer may have grown since its view was made.)
  if (viewBuffers[slot] !== buffer || views[slot]!.length << 2 < u8.byteOffset + u8.length) {
    viewBuffers[slot] = buffer;
    views[slot] = new Uint32Array(buffer, 0, buffer.byteLength >>> 2);
  }
  return views[slot]!;
}

/** dst[i] = a[i] & b[i] (or a[i] | b[i] when `or`) for the common length; returns it. */
function binary(dst: Uint8Array, a: Uint8Array, b: Uint8Array, or: boolean): number {
  const n = Math.min(dst.length, a.length, b.length);
  let i = 0;
  if (n >= 16 && aligned(dst, a, b)) {
    const w = n >>> 2;
    const dw = words(dst, w);
    const aw = words(a, w);
    const bw = words(b, w);
    if (or) for (let j = 0; j < w; j++) dw[j] = aw[j]! | bw[j]!;
    else for (let j = 0; j < w; j++) dw[j] = aw[j]! & bw[j]!;
    i = w << 2;
  }
  if (or) for (; i < n; i++) dst[i] = a[i]! | b[i]!;
  else for (; i < n; i++) dst[i] = a[i]! & b[i]!;
  return n;
}

/** dst[i] = a[i] & b[i] for the common length; returns the number of bytes written. */
export function andBytes(dst: Uint8Array, a: Uint8Array, b: Uint8Array): number {
  return binary(dst, a, b, false);
}

/** dst[i] = a[i] | b[i] for the common length; returns the number of bytes written. */
export function orBytes(dst: Uint8Array, a: Uint8Array, b: Uint8Array): number {
  return binary(dst, a, b, true);
}

/**
 * The matcher's clause step: `out |= first & vs[0] & vs[1] & ...` over `out.length`
 * bytes (every input at least that long); returns non-zero when it set any bit.
 * Three vectors (one address or topic) on 4-byte-aligned operands of a length
 * divisible by 4 run on 32-bit words; anything else runs byte by byte, skipping
 * the remaining vectors of a byte once it is zero.
 */
export function orAndInto(out: Uint8Array, first: Uint8Array, vs: readonly Uint8Array[]): number {
  const n = out.length;
  if (vs.length === 3 && (n & 3) === 0) {
    const a = vs[0]!;
    const b = vs[1]!;
    const c = vs[2]!;
    if (((out.byteOffset | first.byteOffset | a.byteOffset | b.byteOffset | c.byteOffset) & 3) === 0) {
      const w = n >>> 2;
      const o32 = wordsOf(out, 0);
      const f32 = wordsOf(first, 1);
      const a32 = wordsOf(a, 2);
      const b32 = wordsOf(b, 3);
      const c32 = wordsOf(c, 4);
      const o = out.byteOffset >>> 2;
      const f = first.byteOffset >>> 2;
      const ao = a.byteOffset >>> 2;
      const bo = b.byteOffset >>> 2;
      const co = c.byteOffset >>> 2;
      let any = 0;
      for (let k = 0; k < w; k++) {
        const x = f32[f + k]! & a32[ao + k]! & b32[bo + k]! & c32[co + k]!;
        o32[o + k]! |= x;
        any |= x;
      }
      return any;
    }
  }
  let any = 0;
  for (let k = 0; k < n; k++) {
    let x = first[k]!;
    for (let j = 0; j < vs.length && x !== 0; j++) x &= vs[j]![k]!;
    out[k]! |= x;
    any |= x;
  }
  return any;
}

/**
 * True when `first & vs[0] & vs[1] & ...` has any bit set over the first `first.length`
 * bytes (every vector at least that long): a clause's partial AND, tested without being
 * written anywhere. Stops at the first non-zero word, so a dense answer costs a few words.
 */
export function andAny(first: Uint8Array, vs: readonly Uint8Array[]): boolean {
  const n = first.length;
  let i = 0;
  if (vs.length === 2 && n >= 16) {
    const a = vs[0]!;
    const b = vs[1]!;
    if (((first.byteOffset | a.byteOffset | b.byteOffset) & 3) === 0) {
      const w = n >>> 2;
      const f32 = wordsOf(first, 1);
      const a32 = wordsOf(a, 2);
      const b32 = wordsOf(b, 3);
      const f = first.byteOffset >>> 2;
      const ao = a.byteOffset >>> 2;
      const bo = b.byteOffset >>> 2;
      for (let k = 0; k < w; k++) if ((f32[f + k]! & a32[ao + k]! & b32[bo + k]!) !== 0) return true;
      i = w << 2;
    }
  }
  for (; i < n; i++) {
    let x = first[i]!;
    for (let j = 0; j < vs.length && x !== 0; j++) x &= vs[j]![i]!;
    if (x !== 0) return true;
  }
  return false;
}

/** dst[i] &= src[i] for the common length (in-place AND); returns the number of bytes touched. */
export function andInto(dst: Uint8Array, src: Uint8Array): number {
  return andBytes(dst, dst, src);
}

/** dst[i] |= src[i] for the common length (in-place OR); returns the number of bytes touched. */
export function orInto(dst: Uint8Array, src: Uint8Array): number {
  return orBytes(dst, dst, src);
}

/** True when any bit of `a` is set (a section with no candidate left is skipped). */
export function anySet(a: Uint8Array): boolean {
  const n = a.length;
  let i = 0;
  if (n >= 16 && (a.byteOffset & 3) === 0) {
    const w = n >>> 2;
    const aw = words(a, w);
    for (let j = 0; j < w; j++) if (aw[j] !== 0) return true;
    i = w << 2;
  }
  for (; i < n; i++) if (a[i] !== 0) return true;
  return false;
}
