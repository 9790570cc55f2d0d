import { keccak_256 } from '@noble/hashes/sha3';
import fc from 'fast-check';
import { fastKeccak256 } from '../../src/sources/keccakHasher.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('fastKeccak256', () => {
  it('hashes the empty input and "abc" to the known Keccak-256 digests (not SHA3-256)', async () => {
    const keccak = await fastKeccak256();
    expect(hex(keccak(new Uint8Array(0)))).toBe(
      'c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470',
    );
    expect(hex(keccak(new TextEncoder().encode('abc')))).toBe(
      '4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45',
    );
  });

  it('property: equals @noble/hashes on random inputs and views at any offset, and returns fresh arrays', async () => {
    const keccak = await fastKeccak256();
    const first = keccak(new Uint8Array([1]));
    const copy = Uint8Array.from(first);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1200 }), fc.nat(7), (bytes, skip) => {
        const view = bytes.subarray(Math.min(skip, bytes.length));
        expect(hex(keccak(view))).toBe(hex(keccak_256(view)));
      }),
      { numRuns: 300 },
    );
    expect(first).toEqual(copy);
  });
});
