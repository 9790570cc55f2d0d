import fc from 'fast-check';
import { andBytes, andInto, anySet, orAndInto, orBytes, orInto } from '../../src/bitutil/index.js';
import { andAny } from '../../src/bitutil/ops.js';

/** Places `bytes` at byte offset `offset` of a fresh buffer, to exercise aligned and unaligned views. */
function at(bytes: Uint8Array, offset: number): Uint8Array {
  const buf = new Uint8Array(bytes.length + offset + 3);
  const view = buf.subarray(offset, offset + bytes.length);
  view.set(bytes);
  return view;
}

const buf = fc.uint8Array({ maxLength: 600 });
const offset = fc.integer({ min: 0, max: 7 });

describe('andBytes / orBytes', () => {
  test.each([
    ['and', andBytes, (x: number, y: number) => x & y],
    ['or', orBytes, (x: number, y: number) => x | y],
  ] as const)('%s matches a byte loop over the common length, any alignment', (_, op, f) => {
    fc.assert(
      fc.property(buf, buf, fc.nat(600), offset, offset, offset, (a0, b0, dlen, oa, ob, od) => {
        const a = at(a0, oa);
        const b = at(b0, ob);
        const dst = at(new Uint8Array(dlen).fill(0x5a), od);
        const n = Math.min(a.length, b.length, dst.length);
        expect(op(dst, a, b)).toBe(n);
        for (let i = 0; i < n; i++) expect(dst[i]).toBe(f(a0[i]!, b0[i]!));
        for (let i = n; i < dst.length; i++) expect(dst[i]).toBe(0x5a); // untouched beyond n
        expect(a).toEqual(a0); // inputs unchanged
        expect(b).toEqual(b0);
      }),
    );
  });

  test('dst may alias an operand', () => {
    fc.assert(
      fc.property(buf, offset, (a0, o) => {
        const b0 = a0.map((x) => (x * 7 + 3) & 0xff);
        const a = at(a0, o);
        const b = at(b0, o);
        andBytes(a, a, b);
        expect(a).toEqual(a0.map((x, i) => x & b0[i]!));
        const c = at(a0, o);
        orBytes(c, b, c);
        expect(c).toEqual(a0.map((x, i) => x | b0[i]!));
      }),
    );
  });

  test('andInto / orInto are in-place versions', () => {
    fc.assert(
      fc.property(buf, buf, (a0, b0) => {
        const n = Math.min(a0.length, b0.length);
        const x = a0.slice();
        expect(andInto(x, b0)).toBe(n);
        const y = a0.slice();
        orInto(y, b0);
        for (let i = 0; i < a0.length; i++) {
          expect(x[i]).toBe(i < n ? a0[i]! & b0[i]! : a0[i]);
          expect(y[i]).toBe(i < n ? a0[i]! | b0[i]! : a0[i]);
        }
      }),
    );
  });
});

describe('anySet', () => {
  test('is true iff some byte is non-zero', () => {
    fc.assert(
      fc.property(fc.nat(600), fc.nat(700), fc.integer({ min: 1, max: 255 }), offset, (len, pos, v, o) => {
        const zero = at(new Uint8Array(len), o);
        expect(anySet(zero)).toBe(false);
        if (len > 0) {
          const one = at(new Uint8Array(len), o);
          one[pos % len] = v;
          expect(anySet(one)).toBe(true);
        }
      }),
    );
  });

  test('ignores bytes outside the view', () => {
    const buf = new Uint8Array(64).fill(1);
    expect(anySet(buf.subarray(4, 4))).toBe(false);
    buf.fill(0, 8, 40);
    expect(anySet(buf.subarray(8, 40))).toBe(false);
    expect(anySet(buf.subarray(8, 41))).toBe(true);
  });
});

describe('orAndInto', () => {
  test('out |= first & v0 & v1 & ... matches a byte loop, any count, length and alignment', () => {
    const len = fc.integer({ min: 0, max: 80 });
    fc.assert(
      fc.property(
        len.chain((n) =>
          fc.tuple(
            fc.uint8Array({ minLength: n, maxLength: n }),
            fc.uint8Array({ minLength: n, maxLength: n }),
            fc.array(fc.uint8Array({ minLength: n, maxLength: n }), { maxLength: 4 }),
            fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 6, maxLength: 6 }),
          ),
        ),
        ([out0, first0, vs0, offs]) => {
          // Offsets 0 and 4 keep every operand word-aligned, so the 32-bit path runs too.
          const out = at(out0, offs[0]!);
          const first = at(first0, offs[1]!);
          const vs = vs0.map((v, j) => at(v, offs[2 + j]!));
          const expected = out0.map((o, k) => o | vs0.reduce((x, v) => x & v[k]!, first0[k]!));
          const fresh = out0.map((_, k) => vs0.reduce((x, v) => x & v[k]!, first0[k]!));
          const any = orAndInto(out, first, vs);
          expect(out).toEqual(expected);
          expect(any !== 0).toBe(fresh.some((x) => x !== 0));
          expect(first).toEqual(first0);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('andAny', () => {
  test('is true exactly when first & every vector has a bit set, any alignment and count', () => {
    // Sparse bytes, so the AND is often all zero and the answer really varies.
    const sparse = (len: number) =>
      fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 255 })), {
        minLength: len,
        maxLength: len,
      });
    fc.assert(
      fc.property(
        fc
          .integer({ min: 0, max: 70 })
          .chain((len) =>
            fc.tuple(sparse(len), fc.array(sparse(len + 3), { minLength: 0, maxLength: 3 }), offset, offset),
          ),
        ([first0, vs0, of, ov]) => {
          const first = at(Uint8Array.from(first0), of);
          const vs = vs0.map((v) => at(Uint8Array.from(v), ov));
          let expected = false;
          for (let i = 0; i < first.length; i++) {
            let x = first[i]!;
            for (const v of vs) x &= v[i]!;
            if (x !== 0) expected = true;
          }
          expect(andAny(first, vs)).toBe(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('a single set bit in the last word or the tail is found', () => {
    for (const len of [16, 17, 512]) {
      const a = new Uint8Array(len).fill(0xff);
      const b = new Uint8Array(len);
      b[len - 1] = 0x01;
      expect(andAny(a, [a, b])).toBe(true);
      expect(andAny(a, [b, b.map((x) => x ^ 0x01)])).toBe(false);
    }
  });
});

describe('orAndInto / andAny over shared buffers (word views are remembered per buffer)', () => {
  const byteOrAnd = (first: Uint8Array, vs: Uint8Array[]) =>
    Array.from(first, (x, k) => vs.reduce((y, v) => y & v[k]!, x));

  test('many arrays carved from a few buffers, in any order, agree with a byte loop', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 256, maxLength: 256 }), { minLength: 2, maxLength: 3 }),
        fc.array(fc.tuple(fc.nat(2), fc.nat(15), fc.nat(2), fc.nat(15), fc.nat(15), fc.nat(15)), {
          minLength: 1,
          maxLength: 30,
        }),
        (contents, calls) => {
          // Buffers of 256 bytes, arrays of 16 bytes at 16-byte slots (aligned).
          const buffers = contents.map((c) => Uint8Array.from(c));
          const slice = (b: number, i: number) => buffers[b % buffers.length]!.subarray(i * 16, i * 16 + 16);
          for (const [fb, fi, vb, a, b, c] of calls) {
            const first = slice(fb, fi);
            const vs = [slice(vb, a), slice(vb, b), slice(vb + 1, c)];
            const out = new Uint8Array(16);
            const any = orAndInto(out, first, vs);
            const expected = byteOrAnd(first, vs);
            expect(Array.from(out)).toEqual(expected);
            expect(any !== 0).toBe(expected.some((x) => x !== 0));
            expect(andAny(first, vs.slice(0, 2))).toBe(byteOrAnd(first, vs.slice(0, 2)).some((x) => x !== 0));
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  test('a resizable buffer that grew after its view was made is read in full', () => {
    // (ES2024 resizable buffers: Node 20 has them, the ES2022 lib types do not.)
    type Resizable = ArrayBuffer & { resize(length: number): void };
    const Resizable = ArrayBuffer as unknown as new (
      length: number,
      o: { maxByteLength: number },
    ) => Resizable;
    const buffer = new Resizable(16, { maxByteLength: 64 });
    const small = new Uint8Array(buffer, 0, 16).fill(0xff);
    const out = new Uint8Array(16);
    orAndInto(out, small, [small, small, small]);
    buffer.resize(64);
    const tail = new Uint8Array(buffer, 48, 16).fill(0x0f);
    const out2 = new Uint8Array(16);
    expect(orAndInto(out2, tail, [tail, tail, tail])).not.toBe(0);
    expect(Array.from(out2)).toEqual(new Array(16).fill(0x0f));
    expect(andAny(tail, [tail, tail])).toBe(true);
  });
});
