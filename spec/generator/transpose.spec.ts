import fc from 'fast-check';
import { LITTLE_ENDIAN, transposeGroup } from '../../src/generator/transpose.js';

/** Oracle: bloom bit v of a bloom (go-ethereum bloom9: byte 255 - v/8, bit v%8). */
const bloomBit = (bloom: Uint8Array, v: number) => (bloom[255 - (v >> 3)]! >> (v & 7)) & 1;

/** Naive rotation of 8 blooms into byte `group` of every vector, bit by bit. */
function naive(blooms: readonly Uint8Array[], vectorLength: number, group: number): Uint8Array {
  const data = new Uint8Array(2048 * vectorLength);
  for (let v = 0; v < 2048; v++)
    for (let r = 0; r < 8; r++) if (bloomBit(blooms[r]!, v)) data[v * vectorLength + group]! |= 0x80 >> r;
  return data;
}

/** The 8 blooms back to back as 32-bit words read in the given byte order. */
function words(blooms: readonly Uint8Array[], littleEndian: boolean): Int32Array {
  const bytes = new Uint8Array(2048);
  blooms.forEach((b, r) => {
    bytes.set(b, r * 256);
  });
  const view = new DataView(bytes.buffer);
  return Int32Array.from({ length: 512 }, (_, k) => view.getInt32(4 * k, littleEndian));
}

const bloom = fc.oneof(
  fc.uint8Array({ minLength: 256, maxLength: 256 }),
  fc.array(fc.nat(255), { maxLength: 6 }).map((js) => {
    const b = new Uint8Array(256);
    for (const j of js) b[j] = 0xff;
    return b;
  }),
);

describe('transposeGroup', () => {
  test('agrees with a bit-by-bit rotation, for words read in either byte order', () => {
    fc.assert(
      fc.property(
        fc.array(bloom, { minLength: 8, maxLength: 8 }),
        fc.integer({ min: 1, max: 4 }).chain((n) => fc.tuple(fc.constant(n), fc.nat(n - 1))),
        fc.boolean(),
        (blooms, [vectorLength, group], littleEndian) => {
          const data = new Uint8Array(2048 * vectorLength);
          transposeGroup(words(blooms, littleEndian), data, vectorLength, group, littleEndian);
          expect(data).toEqual(naive(blooms, vectorLength, group));
        },
      ),
      { numRuns: 60 },
    );
  });

  test('LITTLE_ENDIAN matches how this platform lays out an Int32Array', () => {
    expect(LITTLE_ENDIAN).toBe(new DataView(new Int32Array([1]).buffer).getInt32(0, true) === 1);
  });
});
