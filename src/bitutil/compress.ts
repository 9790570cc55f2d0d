import { allocBytes } from './alloc.js';
import { copyBytes } from './copy.js';
import { levelLengths, scratchBuffer } from './scratch.js';

/**
 * Sparse bitset encoding, byte-compatible with go-ethereum `common/bitutil`.
 *
 * `encode(d)` is empty for empty or all-zero input, `d` itself for 1 byte, and
 * otherwise `encode(mask(d)) ‖ nonZeroBytes(d)` where bit i (MSB-first) of
 * `mask(d)` is set iff `d[i] != 0`. The recursion is unrolled: one branch-free
 * pass per level builds its mask and compacts its non-zero bytes into a shared
 * scratch buffer, then the output is assembled with block copies.
 */

const lengths: number[] = [];
const maskAt: number[] = [];
const nzAt: number[] = [];
const nzCount: number[] = [];

/**
 * One level: writes the non-zero mask of `src[from, from+len)` to `buf[mAt…]`
 * and its non-zero bytes, in order, to `buf[zAt…]`; returns how many there are.
 * Branch-free: `(b + 255) >> 8` is 1 for a non-zero byte, 0 for zero.
 */
function splitLevel(
  src: Uint8Array,
  from: number,
  len: number,
  buf: Uint8Array,
  mAt: number,
  zAt: number,
): number {
  let p = zAt;
  let s = from;
  const full = len >>> 3;
  for (let g = 0; g < full; g++, s += 8) {
    const b0 = src[s]!;
    const b1 = src[s + 1]!;
    const b2 = src[s + 2]!;
    const b3 = src[s + 3]!;
    const b4 = src[s + 4]!;
    const b5 = src[s + 5]!;
    const b6 = src[s + 6]!;
    const b7 = src[s + 7]!;
    if ((b0 | b1 | b2 | b3 | b4 | b5 | b6 | b7) === 0) {
      buf[mAt + g] = 0;
      continue;
    }
    const f0 = (b0 + 255) >> 8;
    const f1 = (b1 + 255) >> 8;
    const f2 = (b2 + 255) >> 8;
    const f3 = (b3 + 255) >> 8;
    const f4 = (b4 + 255) >> 8;
    const f5 = (b5 + 255) >> 8;
    const f6 = (b6 + 255) >> 8;
    const f7 = (b7 + 255) >> 8;
    buf[mAt + g] = (f0 << 7) | (f1 << 6) | (f2 << 5) | (f3 << 4) | (f4 << 3) | (f5 << 2) | (f6 << 1) | f7;
    buf[p] = b0;
    p += f0;
    buf[p] = b1;
    p += f1;
    buf[p] = b2;
    p += f2;
    buf[p] = b3;
    p += f3;
    buf[p] = b4;
    p += f4;
    buf[p] = b5;
    p += f5;
    buf[p] = b6;
    p += f6;
    buf[p] = b7;
    p += f7;
  }
  const rest = len & 7;
  if (rest !== 0) {
    let m = 0;
    for (let k = 0; k < rest; k++) {
      const b = src[s + k]!;
      const f = (b + 255) >> 8;
      m |= f << (7 - k);
      buf[p] = b;
      p += f;
    }
    buf[mAt + full] = m;
  }
  return p - zAt;
}

/** Levels of the last {@link encodeLevels} (for {@link writeEncoding}). */
let levelCount = 0;

/**
 * Sparse-encodes `data` into the scratch buffer; returns the encoding's length,
 * or -1 when it would be at least `limit` bytes long (so compress can skip
 * building it). {@link writeEncoding} then copies it out.
 */
function encodeLevels(data: Uint8Array, limit: number): number {
  const n = data.length;
  levelCount = 0;
  if (n === 0) return limit > 0 ? 0 : -1;
  if (n === 1) {
    const size = data[0] === 0 ? 0 : 1;
    return size < limit ? size : -1;
  }
  const levels = levelLengths(n, lengths);
  // Scratch layout: for each level j < levels, its non-zero bytes (at most its
  // length) at nzAt[j], and its mask (= level j+1) at maskAt[j+1].
  let size = 0;
  for (let j = 0; j < levels; j++) {
    nzAt[j] = size;
    size += j === 0 ? n : lengths[j - 1]!;
    maskAt[j + 1] = size;
    size += lengths[j]!;
  }
  const buf = scratchBuffer(size);
  let total = 1; // the top level is a single non-zero byte
  for (let j = 0; j < levels; j++) {
    const count =
      j === 0
        ? splitLevel(data, 0, n, buf, maskAt[1]!, nzAt[0]!)
        : splitLevel(buf, maskAt[j]!, lengths[j - 1]!, buf, maskAt[j + 1]!, nzAt[j]!);
    if (count === 0) return limit > 0 ? 0 : -1; // only possible at level 0
    nzCount[j] = count;
    total += count;
    if (total >= limit) return -1;
  }
  levelCount = levels;
  return total;
}

/** Writes the encoding {@link encodeLevels} just made of `data` (`total` bytes) at `out[at…]`. */
function writeEncoding(data: Uint8Array, total: number, out: Uint8Array, at: number): void {
  if (total === 0) return;
  if (levelCount === 0) {
    out[at] = data[0]!; // a 1-byte input is its own encoding
    return;
  }
  const buf = scratchBuffer(0);
  out[at] = buf[maskAt[levelCount]!]!;
  let p = at + 1;
  for (let j = levelCount - 1; j >= 0; j--) {
    const from = nzAt[j]!;
    const count = nzCount[j]!;
    out.set(buf.subarray(from, from + count), p);
    p += count;
  }
}

/** The raw sparse encoding of `data` (before compress's shorter-or-raw choice). */
export function encodeSparseBytes(data: Uint8Array): Uint8Array {
  const total = encodeLevels(data, Number.POSITIVE_INFINITY);
  const out = allocBytes(total);
  writeEncoding(data, total, out, 0);
  return out;
}

/**
 * Compresses a bit vector for storage: the sparse encoding when it is strictly
 * shorter than `data`, otherwise a copy of `data` (decoded by length equality).
 */
export function compressBytes(data: Uint8Array): Uint8Array {
  const total = encodeLevels(data, data.length);
  if (total < 0) return copyBytes(data);
  const out = allocBytes(total);
  writeEncoding(data, total, out, 0);
  return out;
}

/**
 * Writes {@link compressBytes}`(data)` at `out[at…]` (room for `data.length`
 * bytes is enough) and returns its length: a section's values can then share
 * one buffer instead of one allocation each.
 */
export function compressInto(data: Uint8Array, out: Uint8Array, at: number): number {
  const total = encodeLevels(data, data.length);
  if (total < 0) {
    out.set(data, at);
    return data.length;
  }
  writeEncoding(data, total, out, at);
  return total;
}
