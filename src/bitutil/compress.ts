import { levelLengths, scratchBuffer } from './scratch.js';

/**
 * Sparse bitset encoding, byte-compatible with go-ethereum `common/bitutil`.
 *
 * `encode(d)` is empty for empty or all-zero input, `d` itself for 1 byte, and
 * otherwise `encode(mask(d)) ‖ nonZeroBytes(d)` where bit i (MSB-first) of
 * `mask(d)` is set iff `d[i] != 0`. The recursion is unrolled: all mask levels
 * are built into a shared scratch buffer, then the output is written once.
 */

const lengths: number[] = [];
const offsets: number[] = [];

/**
 * Writes the non-zero mask of `src[from, from+len)` to `dst[at, …)` and returns
 * how many bytes of `src` were non-zero.
 */
function buildMask(src: Uint8Array, from: number, len: number, dst: Uint8Array, at: number): number {
  let nonZero = 0;
  const full = len >>> 3;
  let s = from;
  for (let g = 0; g < full; g++, s += 8) {
    let m = 0;
    if (src[s] !== 0) m |= 0x80;
    if (src[s + 1] !== 0) m |= 0x40;
    if (src[s + 2] !== 0) m |= 0x20;
    if (src[s + 3] !== 0) m |= 0x10;
    if (src[s + 4] !== 0) m |= 0x08;
    if (src[s + 5] !== 0) m |= 0x04;
    if (src[s + 6] !== 0) m |= 0x02;
    if (src[s + 7] !== 0) m |= 0x01;
    dst[at + g] = m;
    nonZero += POPCOUNT[m]!;
  }
  const rest = len & 7;
  if (rest !== 0) {
    let m = 0;
    for (let k = 0; k < rest; k++) if (src[s + k] !== 0) m |= 0x80 >>> k;
    dst[at + full] = m;
    nonZero += POPCOUNT[m]!;
  }
  return nonZero;
}

/** Population count of every byte value. */
const POPCOUNT = Uint8Array.from({ length: 256 }, (_, v) => {
  let c = 0;
  for (let x = v; x !== 0; x &= x - 1) c++;
  return c;
});

/** Appends the bytes of `src[from, …)` selected by the mask `mask[at, at+maskLen)` to `out` at `p`. */
function gather(
  src: Uint8Array,
  from: number,
  mask: Uint8Array,
  at: number,
  maskLen: number,
  out: Uint8Array,
  p: number,
): number {
  for (let g = 0; g < maskLen; g++) {
    let m = mask[at + g]!;
    while (m !== 0) {
      const lead = Math.clz32(m) - 24;
      out[p++] = src[from + (g << 3) + lead]!;
      m &= ~(0x80 >>> lead);
    }
  }
  return p;
}

/**
 * Sparse-encodes `data`; returns `undefined` when the encoding would be at
 * least `limit` bytes long (so compress can skip building it).
 */
function encode(data: Uint8Array, limit: number): Uint8Array | undefined {
  const n = data.length;
  if (n === 0) return limit > 0 ? new Uint8Array(0) : undefined;
  if (n === 1) {
    const size = data[0] === 0 ? 0 : 1;
    return size < limit ? data.slice(0, size) : undefined;
  }
  const levels = levelLengths(n, lengths);
  // Level 0 is `data`; level j >= 1 (the mask of level j-1) lives at buf[offsets[j]…].
  let size = 0;
  for (let j = 1; j <= levels; j++) {
    offsets[j] = size;
    size += lengths[j - 1]!;
  }
  const buf = scratchBuffer(size);
  let total = 1; // the top level is a single non-zero byte
  for (let j = 0; j < levels; j++) {
    const src = j === 0 ? data : buf;
    const srcAt = j === 0 ? 0 : offsets[j]!;
    const srcLen = j === 0 ? n : lengths[j - 1]!;
    const nonZero = buildMask(src, srcAt, srcLen, buf, offsets[j + 1]!);
    if (nonZero === 0) return limit > 0 ? new Uint8Array(0) : undefined; // only possible at level 0
    total += nonZero;
  }
  if (total >= limit) return undefined;
  const out = new Uint8Array(total);
  out[0] = buf[offsets[levels]!]!;
  let p = 1;
  for (let j = levels - 1; j >= 0; j--) {
    const src = j === 0 ? data : buf;
    const srcAt = j === 0 ? 0 : offsets[j]!;
    p = gather(src, srcAt, buf, offsets[j + 1]!, lengths[j]!, out, p);
  }
  return out;
}

/** The raw sparse encoding of `data` (before compress's shorter-or-raw choice). */
export function encodeSparseBytes(data: Uint8Array): Uint8Array {
  return encode(data, Number.POSITIVE_INFINITY)!;
}

/**
 * Compresses a bit vector for storage: the sparse encoding when it is strictly
 * shorter than `data`, otherwise a copy of `data` (decoded by length equality).
 */
export function compressBytes(data: Uint8Array): Uint8Array {
  return encode(data, data.length) ?? data.slice();
}
