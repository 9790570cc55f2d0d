import { BLOOM_BIT_LENGTH, BLOOM_BYTE_LENGTH } from '../constants.js';
import { GeneratorError } from '../errors.js';
import { isSectionSize, SECTION_SIZE_RULE } from '../types/sectionSize.js';
import { LITTLE_ENDIAN, transposeGroup } from './transpose.js';

/**
 * Rotates the blooms of one section into 2048 bit vectors: bloom bit v of the
 * block at offset o becomes bit o of vector v (byte `o >> 3`, mask
 * `0x80 >> (o & 7)`, MSB-first). One generator builds one section.
 *
 * Blooms are staged in groups of 8 blocks; each group is turned into one byte
 * of every vector by 8x8 bit-matrix transposes done four at a time on 32-bit
 * words ({@link transposeGroup}), so the cost per block is flat and small for
 * both sparse and dense blooms. All vectors live in one contiguous buffer.
 */
export class BloomBitsGenerator {
  /** Blocks per section (a positive multiple of 8). */
  readonly sectionSize: number;
  /** Bytes per bit vector: sectionSize / 8. */
  readonly vectorLength: number;
  private readonly data: Uint8Array;
  /** The blooms of the current group of 8 blocks, 256 bytes each, until they are transposed. */
  private readonly staging = new Uint8Array(8 * BLOOM_BYTE_LENGTH);
  /** The same staging bytes read as 32-bit words (4 bloom bytes per load). */
  private readonly stagedWords = new Int32Array(this.staging.buffer);
  private next = 0;

  /** @throws GeneratorError unless `sectionSize` is a valid section size ({@link isSectionSize}). */
  constructor(sectionSize: number) {
    if (!isSectionSize(sectionSize)) {
      throw new GeneratorError(`section size must be ${SECTION_SIZE_RULE}, got ${sectionSize}`);
    }
    this.sectionSize = sectionSize;
    this.vectorLength = sectionSize >>> 3;
    this.data = new Uint8Array(BLOOM_BIT_LENGTH * this.vectorLength);
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
    if ((index & 7) === 7)
      transposeGroup(this.stagedWords, this.data, this.vectorLength, index >>> 3, LITTLE_ENDIAN);
    this.next = index + 1;
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
    return this.data.subarray(bit * this.vectorLength, (bit + 1) * this.vectorLength);
  }

  /** All 2048 bit vectors in bit order (views, see {@link bitset}), ready for the store. */
  vectors(): Uint8Array[] {
    const out: Uint8Array[] = new Array(BLOOM_BIT_LENGTH);
    for (let bit = 0; bit < BLOOM_BIT_LENGTH; bit++) out[bit] = this.bitset(bit);
    return out;
  }
}
