/**
 * A section's values packed into one buffer (its checksum input) and that checksum, hashed by
 * WebCrypto where available: the same bytes as compressBytes per vector and as the synchronous
 * checksum `verify` recomputes.
 */
import { sha256 } from '@noble/hashes/sha2';
import { compressBytes } from '../../src/bitutil/index.js';
import { packedChecksum, packSection, sectionChecksum } from '../../src/store/checksum.js';
import { headOf, randomSection } from './fixtures.js';

const SIZE = 256;
const scratch = () => new Uint8Array(48 + 2048 * (4 + SIZE / 8));

describe('packSection and its checksum', () => {
  const vectors = randomSection(7, SIZE);
  const values = vectors.map(compressBytes);
  const head = headOf(7);

  it('packs compressBytes of every vector (empty, sparse and raw values)', () => {
    const packed = packSection(SIZE, 3, head, vectors, scratch());
    expect(packed.values).toEqual(values);
    expect(
      new Set(values.map((v) => (v.length === 0 ? 'empty' : v.length === SIZE / 8 ? 'raw' : 'sparse'))).size,
    ).toBe(3);
    for (const v of packed.values) expect(v.buffer).toBe(packed.data.buffer);
  });

  it('lays out uint64 size ‖ uint64 section ‖ head ‖ (uint32 length ‖ value) per bit, as sectionChecksum hashes', () => {
    const parts: number[] = [0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 3, ...head];
    for (const v of values) parts.push(0, 0, v.length >> 8, v.length & 0xff, ...v);
    const packed = packSection(SIZE, 3, head, vectors, scratch());
    expect(packed.data).toEqual(Uint8Array.from(parts));
    expect(sectionChecksum(SIZE, 3, head, values)).toEqual(sha256(Uint8Array.from(parts)));
  });

  it('a reused scratch buffer leaves earlier results intact', () => {
    const buf = scratch();
    const first = packSection(SIZE, 0, head, vectors, buf);
    const copy = first.values.map((v) => v.slice());
    packSection(SIZE, 1, headOf(8), randomSection(8, SIZE), buf);
    expect(first.values).toEqual(copy);
  });

  it('the checksum equals sectionChecksum, with WebCrypto and without', async () => {
    expect(globalThis.crypto?.subtle).toBeDefined();
    const expected = sectionChecksum(SIZE, 3, head, values);
    const packed = packSection(SIZE, 3, head, vectors, scratch());
    expect(await packedChecksum(packed)).toEqual(expected);
    const crypto = Object.getOwnPropertyDescriptor(globalThis, 'crypto');
    Object.defineProperty(globalThis, 'crypto', { value: undefined, configurable: true });
    try {
      expect(await packedChecksum(packed)).toEqual(expected);
    } finally {
      if (crypto) Object.defineProperty(globalThis, 'crypto', crypto);
      else delete (globalThis as { crypto?: unknown }).crypto;
    }
  });

  it('rejects a vector count other than 2048', () => {
    expect(() => sectionChecksum(SIZE, 0, head, values.slice(1))).toThrow(/2048 values/);
    expect(() => packSection(SIZE, 0, head, vectors.slice(1), scratch())).toThrow(/2048 vectors/);
  });
});
