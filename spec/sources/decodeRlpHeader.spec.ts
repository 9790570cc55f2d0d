import { RLP } from '@ethereumjs/rlp';
import { keccak_256 } from '@noble/hashes/sha3';
import fc from 'fast-check';
import { SourceError } from '../../src/errors.js';
import { DecodedHeader } from '../../src/indexer/decodedHeader.js';
import { decodeRlpHeader } from '../../src/sources/decodeRlpHeader.js';
import { bytesToHex } from '../../src/types/hex.js';

const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });

/** Header fields: parentHash, 5 arbitrary, logsBloom, 1 arbitrary, number, then 6..12 more arbitrary ones. */
const headerFields = fc
  .tuple(
    bytes(32, 32),
    fc.array(bytes(0, 70), { minLength: 5, maxLength: 5 }),
    bytes(256, 256),
    bytes(0, 3),
    fc.nat({ max: 2 ** 48 }),
    fc.array(bytes(0, 70), { minLength: 6, maxLength: 12 }),
  )
  .map(([parent, a, bloom, b, number, rest]) => [parent, ...a, bloom, b, number, ...rest]);

describe('decodeRlpHeader', () => {
  it('property: the in-place field walk equals a full RLP decode + keccak-256 of the header', () => {
    fc.assert(
      fc.property(headerFields, fc.boolean(), (fields, withdrawals) => {
        const header = RLP.encode(fields);
        const block = RLP.encode([fields, [], [], ...(withdrawals ? [[]] : [])]);
        const got = decodeRlpHeader(block);
        const [parent, , , , , , bloom, , number] = RLP.decode(header) as Uint8Array[];
        const want = {
          number: Number(BigInt(bytesToHex(number!) === '0x' ? 0 : bytesToHex(number!))),
          hash: bytesToHex(keccak_256(header)),
          parentHash: bytesToHex(parent!),
          logsBloom: bytesToHex(bloom!),
        };
        expect({ ...got }).toEqual(want);
        const b = DecodedHeader.bytesOf(got)!;
        expect([bytesToHex(b.hash), bytesToHex(b.parentHash), bytesToHex(b.bloom)]).toEqual([
          want.hash,
          want.parentHash,
          want.logsBloom,
        ]);
      }),
      { numRuns: 200 },
    );
  });

  it('rejects what a full RLP decode rejects: a prefixed single byte below 0x80, a field past the header', () => {
    const fields = Array.from({ length: 15 }, (_, i) =>
      i === 0 ? new Uint8Array(32) : i === 6 ? new Uint8Array(256) : new Uint8Array([0x90]),
    );
    const good = RLP.encode([fields, [], []]);
    expect(decodeRlpHeader(good).number).toBe(0x90);
    // field 8 (number) is 0x81 0x90; make it 0x81 0x05 (non-canonical): RLP.decode refuses it too
    const header = RLP.encode(fields);
    const at = header.lastIndexOf(0x90, header.length - 1 - 6 * 2);
    const bad = Uint8Array.from(good);
    bad[good.length - header.length - 2 + at] = 0x05;
    expect(() => RLP.decode(bad.subarray(good.length - header.length - 2))).toThrow();
    expect(() => decodeRlpHeader(bad)).toThrow(SourceError);
    expect(() => decodeRlpHeader(bad)).toThrow(/below 0x80/);
  });
});
