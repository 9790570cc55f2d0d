import fc from 'fast-check';
import {
  compressBytes,
  decodeSparseBytes,
  decompressBytes,
  encodeSparseBytes,
} from '../../src/bitutil/index.js';
import { DecompressError, type DecompressErrorReason, InvalidOptionError } from '../../src/errors.js';
import { bytesToHex, hexToBytes } from '../../src/types/hex.js';
import vectors from '../fixtures/compress-vectors.json';

/** Reference encoder: the recursive definition of go-ethereum common/bitutil (compress.go), written naively. */
function refEncode(d: Uint8Array): Uint8Array {
  if (d.length === 0) return new Uint8Array(0);
  if (d.length === 1) return d[0] === 0 ? new Uint8Array(0) : d.slice();
  const mask = new Uint8Array(Math.ceil(d.length / 8));
  const nz: number[] = [];
  d.forEach((b, i) => {
    if (b !== 0) {
      mask[Math.floor(i / 8)]! |= 128 >> (i % 8);
      nz.push(b);
    }
  });
  if (nz.length === 0) return new Uint8Array(0);
  return Uint8Array.from([...refEncode(mask), ...nz]);
}

/** Expects `fn` to throw a DecompressError with `reason`. */
function expectCode(fn: () => unknown, code: DecompressErrorReason): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(DecompressError);
  expect((err as DecompressError).reason).toBe(code);
}

/** Random buffers: dense (any bytes) and sparse (few random non-zero bytes). */
const dense = fc.uint8Array({ maxLength: 1024 });
const sparse = fc
  .tuple(
    fc.oneof(fc.integer({ min: 0, max: 1024 }), fc.constant(512)),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 40 }),
  )
  .map(([len, sets]) => {
    const d = new Uint8Array(len);
    if (len > 0) for (const [pos, v] of sets) d[pos % len] = v;
    return d;
  });
const anyBuffer = fc.oneof(dense, sparse);

describe('compress vectors (go-ethereum bitutil)', () => {
  test.each(vectors.cycle)('cycle $input', ({ input, length, encoded, compressed }) => {
    const data = hexToBytes(input);
    expect(data.length).toBe(length);
    expect(bytesToHex(encodeSparseBytes(data))).toBe(encoded);
    expect(bytesToHex(compressBytes(data))).toBe(compressed);
    expect(bytesToHex(decompressBytes(hexToBytes(compressed), length))).toBe(input);
    expect(bytesToHex(decodeSparseBytes(hexToBytes(encoded), length))).toBe(input);
  });

  test.each(vectors.decode)('sparse decode $input to $length -> $error', ({ input, length, error }) => {
    const data = hexToBytes(input);
    if (error === null) {
      const out = decodeSparseBytes(data, length);
      expect(out.length).toBe(length);
      expect(bytesToHex(encodeSparseBytes(out))).toBe(input);
    } else {
      expectCode(() => decodeSparseBytes(data, length), error as DecompressErrorReason);
    }
  });

  test('compress section', () => {
    for (const v of vectors.compress) {
      if ('input' in v && v.input !== undefined) {
        expect(bytesToHex(compressBytes(hexToBytes(v.input)))).toBe(v.compressed);
      } else {
        expectCode(
          () => decompressBytes(hexToBytes(v.decompress!), v.length!),
          v.error as DecompressErrorReason,
        );
      }
    }
  });

  test.each(vectors.sections.map((s) => [JSON.stringify(s.blocksSet).slice(0, 30), s] as const))(
    'section vector %s',
    (_, { vector, compressed }) => {
      expect(bytesToHex(compressBytes(hexToBytes(vector)))).toBe(compressed);
      expect(bytesToHex(decompressBytes(hexToBytes(compressed), 512))).toBe(vector);
    },
  );
});

describe('compressBytes', () => {
  test('sparse encoding equals the recursive reference', () => {
    fc.assert(
      fc.property(anyBuffer, (d) => {
        expect(encodeSparseBytes(d)).toEqual(refEncode(d));
      }),
      { numRuns: 300 },
    );
  });

  test('returns the encoding iff strictly shorter, else a copy', () => {
    fc.assert(
      fc.property(anyBuffer, (d) => {
        const enc = refEncode(d);
        const out = compressBytes(d);
        expect(out).toEqual(enc.length < d.length ? enc : d);
        if (d.length > 0) expect(out.buffer).not.toBe(d.buffer);
      }),
      { numRuns: 300 },
    );
  });

  test('an all-zero vector compresses to empty', () => {
    expect(compressBytes(new Uint8Array(512)).length).toBe(0);
    expect(compressBytes(new Uint8Array(0)).length).toBe(0);
  });
});

describe('decompressBytes', () => {
  test('round trip over sparse and dense buffers (lengths 0..1024)', () => {
    fc.assert(
      fc.property(anyBuffer, (d) => {
        expect(decompressBytes(compressBytes(d), d.length)).toEqual(d);
        expect(decodeSparseBytes(encodeSparseBytes(d), d.length)).toEqual(d);
      }),
      { numRuns: 500 },
    );
  });

  test('round trip of a 512-byte vector at several densities', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(4095), { maxLength: 4096 }), (bits) => {
        const v = new Uint8Array(512);
        for (const b of bits) v[b >> 3]! |= 0x80 >> (b & 7);
        expect(decompressBytes(compressBytes(v), 512)).toEqual(v);
      }),
      { numRuns: 100 },
    );
  });

  test('output is fresh: never aliases the input', () => {
    const raw = Uint8Array.from([1, 2, 3]);
    const out = decompressBytes(raw, 3);
    out[0] = 9;
    expect(raw[0]).toBe(1);
    const one = Uint8Array.from([7]);
    const o1 = decodeSparseBytes(one, 1);
    o1[0] = 0;
    expect(one[0]).toBe(7);
  });

  test('output is fresh for Node Buffers too (Buffer#slice would alias)', () => {
    const raw = Buffer.from([1, 2, 3]);
    const out = decompressBytes(raw, 3);
    out[0] = 9;
    expect(raw[0]).toBe(1);
    expect(Buffer.isBuffer(out)).toBe(false);
    const dense = Buffer.from([5, 6, 7]);
    const c = compressBytes(dense);
    c[0] = 0;
    expect(dense[0]).toBe(5);
    const single = Buffer.from([4]);
    encodeSparseBytes(single)[0] = 0;
    expect(single[0]).toBe(4);
  });

  test('input longer than the target is exceededTarget', () => {
    expectCode(() => decompressBytes(new Uint8Array(5), 4), 'exceededTarget');
  });

  test('fuzz: random bytes and targets only decode or throw DecompressError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.nat(2000), (data, target) => {
        let out: Uint8Array;
        try {
          out = decompressBytes(data, target);
        } catch (e) {
          expect(e).toBeInstanceOf(DecompressError);
          return;
        }
        expect(out.length).toBe(target);
        // A successful sparse decode re-encodes to the same bytes.
        if (data.length < target) expect(encodeSparseBytes(out)).toEqual(data);
      }),
      { numRuns: 3000 },
    );
  });

  test('fuzz: mutated valid encodings only decode or throw DecompressError', () => {
    fc.assert(
      fc.property(sparse, fc.nat(), fc.nat(255), (d, pos, v) => {
        const enc = encodeSparseBytes(d);
        if (enc.length === 0) return;
        enc[pos % enc.length] = v;
        try {
          expect(decodeSparseBytes(enc, d.length).length).toBe(d.length);
        } catch (e) {
          expect(e).toBeInstanceOf(DecompressError);
        }
      }),
      { numRuns: 1000 },
    );
  });

  test('a bad target length is a InvalidOptionError', () => {
    expect(() => decompressBytes(new Uint8Array(0), -1)).toThrow(InvalidOptionError);
    expect(() => decompressBytes(new Uint8Array(0), 1.5)).toThrow(InvalidOptionError);
  });
});
