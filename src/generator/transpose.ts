/** True where typed arrays store words little-endian (every mainstream Node platform; s390x is not). */
export const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Rotates 8 staged blooms into byte `group` of every bit vector. `words` holds
 * the blooms of blocks 8*group + r (r = 0..7) back to back, 64 words each, as
 * read by an Int32Array over their bytes; `littleEndian` says how those words
 * were read (bloom byte 4k + L sits at bits 8L of word k when true, 8(3-L)
 * when false). Vector v (vectorLength bytes, at v * vectorLength in `data`)
 * gets the bit of block 8*group + r at mask 0x80 >> r.
 *
 * Word k of the 8 blocks is four 8x8 bit matrices side by side (one per byte
 * lane); three rounds of delta swaps transpose all four at once, so a 32-bit
 * column costs 12 swaps and 32 byte stores. Columns zero in all 8 blooms are
 * skipped (the vectors start zeroed).
 */
export function transposeGroup(
  words: Int32Array,
  data: Uint8Array,
  vectorLength: number,
  group: number,
  littleEndian: boolean,
): void {
  const vlen = vectorLength;
  // Lane 0 (bits 0..7) is bloom byte 4k (LE) or 4k+3 (BE); byte j covers vectors 8*(255-j) ..+7.
  const first = littleEndian ? 2040 : 2016;
  const step = (littleEndian ? -8 : 8) * vlen;
  for (let k = 0; k < 64; k++) {
    // Row i is block 8*group + 7 - i, so the transpose lands block r at bit 7 - r.
    let r0 = words[448 + k]!;
    let r1 = words[384 + k]!;
    let r2 = words[320 + k]!;
    let r3 = words[256 + k]!;
    let r4 = words[192 + k]!;
    let r5 = words[128 + k]!;
    let r6 = words[64 + k]!;
    let r7 = words[k]!;
    if ((r0 | r1 | r2 | r3 | r4 | r5 | r6 | r7) === 0) continue;
    // After these rounds bit p of row i and bit i of row p have traded places in every lane.
    let t = ((r0 >>> 4) ^ r4) & 0x0f0f0f0f;
    r4 ^= t;
    r0 ^= t << 4;
    t = ((r1 >>> 4) ^ r5) & 0x0f0f0f0f;
    r5 ^= t;
    r1 ^= t << 4;
    t = ((r2 >>> 4) ^ r6) & 0x0f0f0f0f;
    r6 ^= t;
    r2 ^= t << 4;
    t = ((r3 >>> 4) ^ r7) & 0x0f0f0f0f;
    r7 ^= t;
    r3 ^= t << 4;
    t = ((r0 >>> 2) ^ r2) & 0x33333333;
    r2 ^= t;
    r0 ^= t << 2;
    t = ((r1 >>> 2) ^ r3) & 0x33333333;
    r3 ^= t;
    r1 ^= t << 2;
    t = ((r4 >>> 2) ^ r6) & 0x33333333;
    r6 ^= t;
    r4 ^= t << 2;
    t = ((r5 >>> 2) ^ r7) & 0x33333333;
    r7 ^= t;
    r5 ^= t << 2;
    t = ((r0 >>> 1) ^ r1) & 0x55555555;
    r1 ^= t;
    r0 ^= t << 1;
    t = ((r2 >>> 1) ^ r3) & 0x55555555;
    r3 ^= t;
    r2 ^= t << 1;
    t = ((r4 >>> 1) ^ r5) & 0x55555555;
    r5 ^= t;
    r4 ^= t << 1;
    t = ((r6 >>> 1) ^ r7) & 0x55555555;
    r7 ^= t;
    r6 ^= t << 1;
    // Row p of a lane is now the vector byte of bloom bit p of that lane's byte.
    let at = (first - 32 * k) * vlen + group;
    for (let sh = 0; sh < 32; sh += 8) {
      let a = at;
      data[a] = r0 >>> sh;
      a += vlen;
      data[a] = r1 >>> sh;
      a += vlen;
      data[a] = r2 >>> sh;
      a += vlen;
      data[a] = r3 >>> sh;
      a += vlen;
      data[a] = r4 >>> sh;
      a += vlen;
      data[a] = r5 >>> sh;
      a += vlen;
      data[a] = r6 >>> sh;
      a += vlen;
      data[a] = r7 >>> sh;
      at += step;
    }
  }
}
