import fc from 'fast-check';
import { compressBytes, compressInto } from '../../src/bitutil/compress.js';

/** Vectors of every kind: empty, 1 byte, all-zero, sparse (sparse-encoded) and dense (kept raw). */
const vector = fc.oneof(
  fc.uint8Array({ maxLength: 3 }),
  fc.nat(600).map((n) => new Uint8Array(n)),
  fc
    .tuple(fc.nat(600), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 40 }))
    .map(([n, sets]) => {
      const v = new Uint8Array(n);
      if (n > 0) for (const [i, b] of sets) v[i % n] = b;
      return v;
    }),
  fc.uint8Array({ minLength: 1, maxLength: 600 }),
);

describe('compressInto', () => {
  it('writes exactly compressBytes(data) at the offset and returns its length', () => {
    fc.assert(
      fc.property(vector, fc.nat(64), (data, at) => {
        const out = new Uint8Array(at + data.length + 8).fill(0xee);
        const n = compressInto(data, out, at);
        const expected = compressBytes(data);
        expect(n).toBe(expected.length);
        expect(out.subarray(at, at + n)).toEqual(expected);
        expect(out.subarray(0, at).every((b) => b === 0xee)).toBe(true);
        expect(out.subarray(at + n).every((b) => b === 0xee)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
