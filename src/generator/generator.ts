import { BLOOM_BIT_LENGTH, BLOOM_BYTE_LENGTH } from '../constants.js';
import { GeneratorError } from '../errors.js';
import { isSectionSize, SECTION_SIZE_RULE } from '../types/sectionSize.js';

/** Largest vector chunk: below glibc's default 128 KiB mmap threshold (see the class comment). */
const CHUNK_BYTES = 64 * 1024;

/**
 * Rotates the blooms of one section into 2048 bit vectors: bloom bit v of the
 * block at offset o becomes bit o of vector v (byte `o >> 3`, mask
 * `0x80 >> (o & 7)`, MSB-first). One generator builds one section.
 *
 * Blooms are staged in groups of 8 blocks; each group is turned into one byte
 * of every vector by 8x8 bit-matrix transposes (one per bloom byte column,
 * skipped when the column is zero), so the cost per block is flat and small
 * for both sparse and dense blooms.
 *
 * The vectors live in chunks of at most 64 KiB (128 vectors at 4096 blocks)
 * rather than one 1 MiB buffer: allocations that large are fresh mmaps in
 * glibc, paid for in page faults on every section (a third of the generator's
 * time in a young process), while chunks under its 128 KiB threshold reuse
 * freed heap memory.
 */
export class BloomBitsGenerator {
  /** Blocks per section (a positive multiple of 8). */
  readonly sectionSize: number;
  /** Bytes per bit vector: sectionSize / 8. */
  readonly vectorLength: number;
  /** Vector v is at (v & chunkMask) * vectorLength in chunks[v >>> chunkShift]. */
  private readonly chunks: Uint8Array[];
  private readonly chunkShift: number;
  private readonly chunkMask: number;
  /** The blooms of the current group of 8 blocks, 256 bytes each, until they are transposed. */
  private readonly staging = new Uint8Array(8 * BLOOM_BYTE_LENGTH);
  private next = 0;

  /** @throws GeneratorError unless `sectionSize` is a valid section size ({@link isSectionSize}). */
  constructor(sectionSize: number) {
    if (!isSectionSize(sectionSize)) {
      throw new GeneratorError(`section size must be ${SECTION_SIZE_RULE}, got ${sectionSize}`);
    }
    this.sectionSize = sectionSize;
    this.vectorLength = sectionSize >>> 3;
    // The most vectors (a power of two, 8..2048) that fit in CHUNK_BYTES; at least one byte column's 8.
    let shift = 3;
    while (shift < 11 && this.vectorLength << (shift + 1) <= CHUNK_BYTES) shift++;
    this.chunkShift = shift;
    this.chunkMask = (1 << shift) - 1;
    this.chunks = Array.from(
      { length: BLOOM_BIT_LENGTH >>> shift },
      () => new Uint8Array(this.vectorLength << shift),
    );
  }

  /**
   * Starts the next section in the same memory, so an indexer needs one
   * generator rather than a fresh megabyte per section (fresh memory is paid
   * for in page faults). Every view returned by {@link bitset} or
   * {@link vectors} so far then changes: copy or store them first.
   */
  reset(): void {
    for (const chunk of this.chunks) chunk.fill(0);
    this.next = 0;
  }

  /** Number of blooms added so far (the offset the next `addBloom` must use). */
  get added(): number {
    return this.next;
  }

  /** True once every block of the section has been added. */
  get full(): boolean {
    return this.next === this.sectionSize;
  }

  /**
   * Adds the bloom of the block at section offset `index`; offsets must come
   * strictly in order 0, 1, 2, … (a gap would silently lose a block).
   * @throws GeneratorError on an out-of-order index, a full section, or a bloom that is not 256 bytes.
   */
  addBloom(index: number, bloom: Uint8Array): void {
    if (this.next >= this.sectionSize) {
      throw new GeneratorError(`section is full (${this.sectionSize} blooms), cannot add index ${index}`);
    }
    if (index !== this.next)
      throw new GeneratorError(`bloom index out of order: expected ${this.next}, got ${index}`);
    if (!(bloom instanceof Uint8Array) || bloom.length !== BLOOM_BYTE_LENGTH) {
      throw new GeneratorError(`a bloom must be ${BLOOM_BYTE_LENGTH} bytes`);
    }
    this.staging.set(bloom, (index & 7) << 8);
    if ((index & 7) === 7) this.flush(index >>> 3);
    this.next = index + 1;
  }

  /**
   * Transposes the 8 staged blooms into byte `group` of every vector. For bloom
   * byte j, row r is block 8*group + r (mask 0x80 >> r) and column c is bloom
   * bit 8*(255-j) + (7-c); the output byte for column c is that vector's byte.
   */
  private flush(group: number): void {
    const st = this.staging;
    const vlen = this.vectorLength;
    const chunks = this.chunks;
    const shift = this.chunkShift;
    const mask = this.chunkMask;
    for (let j = 0; j < BLOOM_BYTE_LENGTH; j++) {
      const b0 = st[j]!;
      const b1 = st[256 + j]!;
      const b2 = st[512 + j]!;
      const b3 = st[768 + j]!;
      const b4 = st[1024 + j]!;
      const b5 = st[1280 + j]!;
      const b6 = st[1536 + j]!;
      const b7 = st[1792 + j]!;
      if ((b0 | b1 | b2 | b3 | b4 | b5 | b6 | b7) === 0) continue;
      // 8x8 bit transpose in two 32-bit halves (Hacker's Delight, transpose8).
      let x = (b0 << 24) | (b1 << 16) | (b2 << 8) | b3;
      let y = (b4 << 24) | (b5 << 16) | (b6 << 8) | b7;
      let t = (x ^ (x >>> 7)) & 0x00aa00aa;
      x = x ^ t ^ (t << 7);
      t = (y ^ (y >>> 7)) & 0x00aa00aa;
      y = y ^ t ^ (t << 7);
      t = (x ^ (x >>> 14)) & 0x0000cccc;
      x = x ^ t ^ (t << 14);
      t = (y ^ (y >>> 14)) & 0x0000cccc;
      y = y ^ t ^ (t << 14);
      t = (x & 0xf0f0f0f0) | ((y >>> 4) & 0x0f0f0f0f);
      y = ((x << 4) & 0xf0f0f0f0) | (y & 0x0f0f0f0f);
      x = t;
      // Column c (bloom bit 7-c of byte j) is vector 8*(255-j) + 7 - c; all 8 share a chunk.
      const top = (BLOOM_BYTE_LENGTH - 1 - j) * 8 + 7;
      const data = chunks[top >>> shift]!;
      let at = (top & mask) * vlen + group;
      data[at] = x >>> 24;
      at -= vlen;
      data[at] = x >>> 16;
      at -= vlen;
      data[at] = x >>> 8;
      at -= vlen;
      data[at] = x;
      at -= vlen;
      data[at] = y >>> 24;
      at -= vlen;
      data[at] = y >>> 16;
      at -= vlen;
      data[at] = y >>> 8;
      at -= vlen;
      data[at] = y;
    }
  }

  /**
   * The finished bit vector of bloom bit `bit` (sectionSize/8 bytes). It is a
   * view into the generator's buffer: copy it before mutating.
   * @throws GeneratorError before the section is full or for a bit outside 0..2047.
   */
  bitset(bit: number): Uint8Array {
    if (!this.full) {
      throw new GeneratorError(`section not complete: ${this.next} of ${this.sectionSize} blooms added`);
    }
    if (!Number.isInteger(bit) || bit < 0 || bit >= BLOOM_BIT_LENGTH) {
      throw new GeneratorError(`bloom bit must be in 0..${BLOOM_BIT_LENGTH - 1}, got ${bit}`);
    }
    const at = (bit & this.chunkMask) * this.vectorLength;
    return this.chunks[bit >>> this.chunkShift]!.subarray(at, at + this.vectorLength);
  }

  /** All 2048 bit vectors in bit order (views, see {@link bitset}), ready for the store. */
  vectors(): Uint8Array[] {
    const out: Uint8Array[] = new Array(BLOOM_BIT_LENGTH);
    for (let bit = 0; bit < BLOOM_BIT_LENGTH; bit++) out[bit] = this.bitset(bit);
    return out;
  }
}
