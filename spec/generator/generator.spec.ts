import fc from 'fast-check';
import { compressBytes } from '../../src/bitutil/index.js';
import { GeneratorError } from '../../src/errors.js';
import { BloomBitsGenerator } from '../../src/generator/index.js';
import { bytesToHex } from '../../src/types/hex.js';
import vectors from '../fixtures/compress-vectors.json';

/** Oracle: bloom bit v of a bloom, straight from the bloom9 definition (go-ethereum core/types/bloom9.go). */
const bloomBit = (bloom: Uint8Array, v: number) => (bloom[255 - (v >> 3)]! >> (v & 7)) & 1;
/** Oracle: bit o of a vector, MSB-first. */
const vectorBit = (vec: Uint8Array, o: number) => (vec[o >> 3]! >> (7 - (o & 7))) & 1;

/** A bloom whose given bloom bits are set. */
function bloomWith(bits: readonly number[]): Uint8Array {
  const b = new Uint8Array(256);
  for (const v of bits) b[255 - (v >> 3)]! |= 1 << (v & 7);
  return b;
}

describe('BloomBitsGenerator rotation', () => {
  test('bit v of block o is bit o of vector v, both ways (random blooms)', () => {
    const bloom = fc.oneof(
      fc.uint8Array({ minLength: 256, maxLength: 256 }),
      fc.array(fc.nat(2047), { maxLength: 12 }).map(bloomWith),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }).chain((k) => fc.array(bloom, { minLength: 8 * k, maxLength: 8 * k })),
        (blooms) => {
          const gen = new BloomBitsGenerator(blooms.length);
          blooms.forEach((b, o) => {
            gen.addBloom(o, b);
          });
          const vecs = gen.vectors();
          expect(vecs.length).toBe(2048);
          for (let v = 0; v < 2048; v++) {
            const vec = vecs[v]!;
            expect(vec.length).toBe(blooms.length / 8);
            for (let o = 0; o < blooms.length; o++) {
              if (vectorBit(vec, o) !== bloomBit(blooms[o]!, v)) {
                throw new Error(`mismatch at bit ${v} offset ${o}`);
              }
            }
            expect(gen.bitset(v)).toEqual(vec);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  test('sections vectors: blocks with bloom bit set give the expected vector and compression', () => {
    const bit = 1234;
    for (const s of vectors.sections) {
      const gen = new BloomBitsGenerator(4096);
      const set = new Set(
        typeof s.blocksSet === 'string' ? Array.from({ length: 4096 }, (_, i) => i) : s.blocksSet,
      );
      const withBit = bloomWith([bit]);
      const empty = new Uint8Array(256);
      for (let o = 0; o < 4096; o++) gen.addBloom(o, set.has(o) ? withBit : empty);
      expect(bytesToHex(gen.bitset(bit))).toBe(s.vector);
      expect(bytesToHex(compressBytes(gen.bitset(bit)))).toBe(s.compressed);
      expect(gen.bitset(bit + 1)).toEqual(new Uint8Array(512));
    }
  });

  test('large sections (vectors spread over several buffers) agree with a bit-by-bit rotation', () => {
    // 1024 / 4096 / 32768 blocks: 4 / 16 / 128 chunks of vectors, so every chunk boundary is crossed;
    // 1032: vectors of 129 bytes, 256 to a chunk.
    fc.assert(
      fc.property(
        fc.constantFrom(1024, 1032, 4096, 32768),
        fc.array(fc.nat(2047), { minLength: 1, maxLength: 20 }),
        fc.integer(),
        (size, bits, seed) => {
          const naive = Array.from({ length: 2048 }, () => new Uint8Array(size / 8));
          const gen = new BloomBitsGenerator(size);
          let x = seed | 1;
          for (let o = 0; o < size; o++) {
            // A cheap xorshift picks each block's bits from `bits`.
            x ^= x << 13;
            x ^= x >>> 17;
            x ^= x << 5;
            const mine = bits.filter((_, i) => (x >>> i) & 1);
            for (const v of mine) naive[v]![o >> 3]! |= 0x80 >> (o & 7);
            gen.addBloom(o, bloomWith(mine));
          }
          const vecs = gen.vectors();
          for (let v = 0; v < 2048; v++) {
            if (!vecs[v]!.every((b, i) => b === naive[v]![i])) throw new Error(`vector ${v} differs`);
          }
        },
      ),
      { numRuns: 6 },
    );
  });

  test('reset starts a new section in the same memory: nothing of the previous one remains', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.nat(2047), { maxLength: 12 }), { minLength: 16, maxLength: 16 }),
        fc.array(fc.array(fc.nat(2047), { maxLength: 12 }), { minLength: 16, maxLength: 16 }),
        (first, second) => {
          const reused = new BloomBitsGenerator(16);
          first.forEach((bits, o) => {
            reused.addBloom(o, bloomWith(bits));
          });
          const views = reused.vectors();
          reused.reset();
          expect(reused.added).toBe(0);
          expect(reused.full).toBe(false);
          expect(() => reused.bitset(0)).toThrow(GeneratorError);
          const fresh = new BloomBitsGenerator(16);
          second.forEach((bits, o) => {
            reused.addBloom(o, bloomWith(bits));
            fresh.addBloom(o, bloomWith(bits));
          });
          expect(reused.vectors()).toEqual(fresh.vectors());
          expect(views).toEqual(fresh.vectors()); // the old views show the new section
        },
      ),
      { numRuns: 50 },
    );
  });

  test('reports progress', () => {
    const gen = new BloomBitsGenerator(8);
    expect(gen.vectorLength).toBe(1);
    expect(gen.added).toBe(0);
    for (let o = 0; o < 8; o++) {
      expect(gen.full).toBe(false);
      gen.addBloom(o, new Uint8Array(256));
    }
    expect(gen.added).toBe(8);
    expect(gen.full).toBe(true);
  });
});

describe('BloomBitsGenerator errors', () => {
  test.each([0, -8, 12, 7, 8.5, Number.NaN])('section size %p is rejected', (size) => {
    expect(() => new BloomBitsGenerator(size)).toThrow(GeneratorError);
  });

  test('out-of-order, repeated and skipped indexes', () => {
    const gen = new BloomBitsGenerator(16);
    const b = new Uint8Array(256);
    expect(() => gen.addBloom(1, b)).toThrow(GeneratorError);
    gen.addBloom(0, b);
    expect(() => gen.addBloom(0, b)).toThrow(GeneratorError);
    expect(() => gen.addBloom(2, b)).toThrow(GeneratorError);
    gen.addBloom(1, b);
    expect(gen.added).toBe(2);
  });

  test('overflow past the section size', () => {
    const gen = new BloomBitsGenerator(8);
    for (let o = 0; o < 8; o++) gen.addBloom(o, new Uint8Array(256));
    expect(() => gen.addBloom(8, new Uint8Array(256))).toThrow(/full/);
  });

  test('bloom of the wrong length leaves the generator unchanged', () => {
    const gen = new BloomBitsGenerator(8);
    expect(() => gen.addBloom(0, new Uint8Array(255))).toThrow(GeneratorError);
    expect(() => gen.addBloom(0, new Uint8Array(257))).toThrow(GeneratorError);
    expect(gen.added).toBe(0);
  });

  test('bitset and vectors before the section is full', () => {
    const gen = new BloomBitsGenerator(8);
    gen.addBloom(0, new Uint8Array(256));
    expect(() => gen.bitset(0)).toThrow(GeneratorError);
    expect(() => gen.vectors()).toThrow(GeneratorError);
  });

  test.each([-1, 2048, 1.5])('bit %p outside 0..2047', (bit) => {
    const gen = new BloomBitsGenerator(8);
    for (let o = 0; o < 8; o++) gen.addBloom(o, new Uint8Array(256));
    expect(() => gen.bitset(bit)).toThrow(GeneratorError);
  });
});
