import { DecompressError, InvalidOptionError } from '../errors.js';
import { allocBytes } from './alloc.js';
import { copyBytes } from './copy.js';
import { levelLengths, POPCOUNT, scratchBuffer } from './scratch.js';

/**
 * Decoding of the sparse bitset encoding (see compress.ts), byte-compatible
 * with go-ethereum `common/bitutil`. The recursion is unrolled bottom-up: the
 * 1-byte top level is read first, then every level is expanded into the
 * next-larger one using the shared scratch buffer; only the result is allocated.
 */

const lengths: number[] = [];
const offsets: number[] = [];

/**
 * Expands the level at `mask[maskAt, maskAt+maskLen)` into `dst[dstAt, dstAt+dstLen)`
 * (which must be zeroed), taking non-zero bytes from `data` starting at `ptr`.
 * Returns the new read position. Errors follow go-ethereum's order per set bit.
 */
function expand(
  data: Uint8Array,
  ptr: number,
  mask: Uint8Array,
  maskAt: number,
  maskLen: number,
  dst: Uint8Array,
  dstAt: number,
  dstLen: number,
): number {
  let count = 0;
  for (let g = 0; g < maskLen; g++) count += POPCOUNT[mask[maskAt + g]!]!;
  // Bits past dstLen can only be in the low bits of the last mask byte.
  const spare = maskLen * 8 - dstLen;
  const tailClear = spare <= 0 || (mask[maskAt + maskLen - 1]! & ((1 << spare) - 1)) === 0;
  if (!tailClear || ptr + count > data.length)
    return expandChecked(data, ptr, mask, maskAt, maskLen, dst, dstAt, dstLen);
  // Fast path: data suffices and no bit exceeds the target, so only a zero byte can fail.
  let allNonZero = 1;
  for (let g = 0; g < maskLen; g++) {
    let m = mask[maskAt + g]!;
    const base = dstAt + (g << 3);
    while (m !== 0) {
      const lead = Math.clz32(m) - 24;
      m ^= 0x80 >>> lead;
      const b = data[ptr++]!;
      allNonZero &= (b + 255) >> 8;
      dst[base + lead] = b;
    }
  }
  if (allNonZero === 0) throw new DecompressError('zeroContent');
  return ptr;
}

/** {@link expand} with every check per set bit, for inputs that will fail or run short. */
function expandChecked(
  data: Uint8Array,
  ptr: number,
  mask: Uint8Array,
  maskAt: number,
  maskLen: number,
  dst: Uint8Array,
  dstAt: number,
  dstLen: number,
): number {
  const end = data.length;
  for (let g = 0; g < maskLen; g++) {
    let m = mask[maskAt + g]!;
    while (m !== 0) {
      const lead = Math.clz32(m) - 24;
      m ^= 0x80 >>> lead;
      const i = (g << 3) + lead;
      if (ptr >= end) throw new DecompressError('missingData');
      if (i >= dstLen) throw new DecompressError('exceededTarget');
      const b = data[ptr++]!;
      if (b === 0) throw new DecompressError('zeroContent');
      dst[dstAt + i] = b;
    }
  }
  return ptr;
}

/**
 * Decodes the sparse encoding `data` into exactly `target` bytes, with no
 * raw-copy shortcut (go-ethereum's `bitsetDecodeBytes`).
 * @throws DecompressError missingData | exceededTarget | zeroContent | unreferencedData
 */
export function decodeSparseBytes(data: Uint8Array, target: number): Uint8Array {
  checkTarget(target);
  const out = allocBytes(target);
  let ptr = 0;
  if (target > 0 && data.length > 0) {
    if (target === 1) {
      out[0] = data[0]!;
      ptr = data[0] === 0 ? 0 : 1;
    } else {
      const levels = levelLengths(target, lengths);
      let size = 0;
      for (let j = 1; j <= levels; j++) {
        offsets[j] = size;
        size += lengths[j - 1]!;
      }
      const buf = scratchBuffer(size);
      buf.fill(0, 0, size);
      // Top level: one byte, consumed only when non-zero.
      const top = data[0]!;
      buf[offsets[levels]!] = top;
      ptr = top === 0 ? 0 : 1;
      for (let j = levels - 1; j >= 0; j--) {
        const maskAt = offsets[j + 1]!;
        const maskLen = lengths[j]!;
        if (j === 0) ptr = expand(data, ptr, buf, maskAt, maskLen, out, 0, target);
        else ptr = expand(data, ptr, buf, maskAt, maskLen, buf, offsets[j]!, lengths[j - 1]!);
      }
    }
  }
  if (ptr !== data.length) throw new DecompressError('unreferencedData');
  return out;
}

/**
 * Restores a vector stored by `compressBytes` to `targetLength` bytes: input
 * as long as the target is a raw copy, shorter input is sparse-decoded.
 * The result is always a fresh array (never aliases `data`).
 * @throws DecompressError on any malformed input; InvalidOptionError on a bad `targetLength`.
 */
export function decompressBytes(data: Uint8Array, targetLength: number): Uint8Array {
  checkTarget(targetLength);
  if (data.length > targetLength) throw new DecompressError('exceededTarget');
  if (data.length === targetLength) return copyBytes(data);
  return decodeSparseBytes(data, targetLength);
}

/** Rejects a target length that is not a non-negative safe integer (a caller bug, not bad data). */
function checkTarget(target: number): void {
  if (!Number.isSafeInteger(target) || target < 0) {
    throw new InvalidOptionError('targetLength', `must be a non-negative integer, got ${target}`);
  }
}
