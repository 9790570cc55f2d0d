/**
 * A grow-only scratch buffer shared by the (synchronous) sparse encoder and
 * decoder, so the intermediate bitset levels cost no allocation per call.
 */
let scratch = new Uint8Array(1024);

/** Returns a scratch buffer of at least `size` bytes; contents are undefined (callers clear what they use). */
export function scratchBuffer(size: number): Uint8Array {
  if (scratch.length < size) scratch = new Uint8Array(Math.max(size, scratch.length * 2));
  return scratch;
}

/** Byte lengths of the bitset levels above a level of `length` bytes, down to the 1-byte level. */
export function levelLengths(length: number, out: number[]): number {
  let count = 0;
  let len = length;
  while (len > 1) {
    len = (len + 7) >>> 3;
    out[count++] = len;
  }
  return count;
}

/** Population count of every byte value. */
export const POPCOUNT: Uint8Array = Uint8Array.from({ length: 256 }, (_, v) => {
  let c = 0;
  for (let x = v; x !== 0; x &= x - 1) c++;
  return c;
});
