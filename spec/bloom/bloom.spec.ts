import { keccak_256 } from '@noble/hashes/sha3';
import fc from 'fast-check';
import {
  bloomAdd,
  bloomIndexes,
  bloomTest,
  bloomTestBits,
  bloomTestGroups,
  createBloom,
} from '../../src/bloom/index.js';
import { InvalidBloomError } from '../../src/errors.js';
import { bytesToHex, hexToBytes } from '../../src/types/hex.js';
import vectors from '../fixtures/bloom-vectors.json';

const ascii = (s: string) => new TextEncoder().encode(s);

/** Oracle: the bit indexes set in a bloom, by brute force over all 2048 bits. */
function setBits(bloom: Uint8Array): number[] {
  const out: number[] = [];
  for (let v = 0; v < 2048; v++) if ((bloom[255 - Math.floor(v / 8)]! >> (v % 8)) & 1) out.push(v);
  return out;
}

describe('bloomIndexes', () => {
  test.each(vectors.keys)('$name', ({ key, bits }) => {
    expect(bloomIndexes(hexToBytes(key))).toEqual(bits);
  });

  test('go-ethereum bloom9 vectors', () => {
    expect(bloomIndexes(new Uint8Array(20))).toEqual([896, 1975, 1665]);
    expect(bloomIndexes(new Uint8Array(32))).toEqual([269, 1241, 1163]);
    expect(
      bloomIndexes(hexToBytes('0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef')),
    ).toEqual([1443, 481, 1060]);
  });

  test('matches the formula on the keccak digest for random keys', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (key) => {
        const h = keccak_256(key);
        const want = [0, 1, 2].map((i) => (h[2 * i]! * 256 + h[2 * i + 1]!) % 2048);
        expect(bloomIndexes(key)).toEqual(want);
      }),
    );
  });
});

describe('bloomAdd / bloomTest', () => {
  test('the "xxxxxxxxxx data {i} yyyyyyyyyyyyyy" bloom has the geth keccak', () => {
    const bloom = new Uint8Array(256);
    for (let i = 0; i < 100; i++) bloomAdd(bloom, ascii(`xxxxxxxxxx data ${i} yyyyyyyyyyyyyy`));
    const want = vectors.blooms[0]!.keccak256OfBloom;
    expect(bytesToHex(keccak_256(bloom))).toBe(want);
    for (let i = 0; i < 100; i++)
      expect(bloomTest(bloom, ascii(`xxxxxxxxxx data ${i} yyyyyyyyyyyyyy`))).toBe(true);
  });

  test('testtest/hallo bloom: present keys test true, absent keys false', () => {
    const v = vectors.blooms[1]!;
    const bloom = hexToBytes(v.bloom!);
    for (const k of v.present!) expect(bloomTest(bloom, ascii(k))).toBe(true);
    v.absent!.forEach((k, i) => {
      expect(bloomTest(bloom, ascii(k))).toBe(v.check![i]);
    });
    // Building it from the present keys gives the same bloom.
    const built = new Uint8Array(256);
    for (const k of v.present!) bloomAdd(built, ascii(k));
    expect(bytesToHex(built)).toBe(v.bloom);
  });

  test('sets exactly the three indexed bits, at byte 255-(v>>3), mask 1<<(v&7)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 40 }), (key) => {
        const bloom = new Uint8Array(256);
        bloomAdd(bloom, key);
        expect(setBits(bloom)).toEqual([...new Set(bloomIndexes(key))].sort((a, b) => a - b));
        expect(bloomTest(bloom, key)).toBe(true);
      }),
    );
  });

  test('rejects blooms that are not 256 bytes', () => {
    expect(() => bloomAdd(new Uint8Array(255), ascii('x'))).toThrow(InvalidBloomError);
    expect(() => bloomTest(new Uint8Array(257), ascii('x'))).toThrow(InvalidBloomError);
    expect(() => bloomTestBits(new Uint8Array(0), [1])).toThrow(InvalidBloomError);
  });
});

describe('bloomTestBits', () => {
  test('is true iff every listed bit is set (brute-force oracle)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 256, maxLength: 256 }),
        fc.array(fc.integer({ min: 0, max: 2047 }), { maxLength: 6 }),
        (bloom, bits) => {
          const set = new Set(setBits(bloom));
          expect(bloomTestBits(bloom, bits)).toBe(bits.every((b) => set.has(b)));
        },
      ),
    );
  });

  test('rejects bit indexes outside 0..2047', () => {
    const bloom = new Uint8Array(256).fill(0xff);
    expect(() => bloomTestBits(bloom, [2048])).toThrow(InvalidBloomError);
    expect(() => bloomTestBits(bloom, [-1])).toThrow(InvalidBloomError);
    expect(() => bloomTestBits(bloom, [1.5])).toThrow(InvalidBloomError);
  });
});

describe('createBloom', () => {
  test('four log addresses give the geth keccak', () => {
    const addr = (suffix: string) => `0x${suffix.padStart(40, '0')}` as const;
    const logs = ['11', '0111', '22', '0222'].map((s) => ({ address: addr(s), topics: [] }));
    expect(bytesToHex(keccak_256(createBloom(logs)))).toBe(vectors.blooms[2]!.keccak256OfBloom);
  });

  test('is the OR of bloomAdd over addresses and topics; hex and bytes agree', () => {
    const key = fc.uint8Array({ minLength: 20, maxLength: 32 });
    const log = fc.record({ address: key, topics: fc.array(key, { maxLength: 4 }) });
    fc.assert(
      fc.property(fc.array(log, { maxLength: 5 }), (logs) => {
        const want = new Uint8Array(256);
        for (const l of logs) for (const k of [l.address, ...l.topics]) bloomAdd(want, k);
        expect(createBloom(logs)).toEqual(want);
        const hexLogs = logs.map((l) => ({
          address: bytesToHex(l.address),
          topics: l.topics.map(bytesToHex),
        }));
        expect(createBloom(hexLogs)).toEqual(want);
      }),
    );
  });

  test('no logs gives an empty bloom', () => {
    expect(createBloom([])).toEqual(new Uint8Array(256));
  });
});

describe('bloomTestGroups', () => {
  it('is the AND over groups of the OR over clauses of bloomTest (ASCII keys, testtest bloom)', () => {
    const bloom = new Uint8Array(256);
    for (const k of ['testtest', 'test', 'hallo', 'other']) bloomAdd(bloom, ascii(k));
    const keys = ['testtest', 'test', 'hallo', 'other', 'tes', 'lo', 'absent-1', 'absent-2'];
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.constantFrom(...keys), { minLength: 1, maxLength: 3 }), { maxLength: 4 }),
        (groups) => {
          const expected = groups.every((g) => g.some((k) => bloomTest(bloom, ascii(k))));
          const compiled = groups.map((g) => g.map((k) => bloomIndexes(ascii(k))));
          expect(bloomTestGroups(bloom, compiled)).toBe(expected);
        },
      ),
    );
  });
});
