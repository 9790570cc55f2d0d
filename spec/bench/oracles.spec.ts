import { MemoryLevel } from 'memory-level';
import { addBlock, compareAnswers, emptyAnswer } from '../../bench/lib/answer.js';
import { makeBloom } from '../../bench/lib/chains.js';
import { imperativeLoop } from '../../bench/lib/loop.js';
import { naiveScan } from '../../bench/lib/naive.js';
import { SHAPES } from '../../bench/lib/shapes.js';
import { type Db, randomVector } from '../../bench/lib/vectorStore.js';
import { BloomBitsGenerator, BloomBitsStore, bloomTestGroups, encodeUint64 } from '../../src/index.js';
import { prng } from '../helpers/prng.js';

// The bench's oracles (what every figure's answer is checked against) must be right on their own: each is checked against a brute-force bloom test.
const SIZE = 64;
const SECTIONS = 5;
const VIEW = { keyEncoding: 'view', valueEncoding: 'view' } as const;

/** Blooms dense enough (75% and 87.5% of bits) that every shape has candidates, and the chain maker's. */
function blooms(): Uint8Array[] {
  const random = prng(5);
  const byte = () => Math.floor(random() * 256);
  return Array.from({ length: SIZE * SECTIONS }, (_, i) => {
    if (i % 2) return makeBloom(random, 300);
    return Uint8Array.from({ length: 256 }, () => (i % 4 ? byte() | byte() : byte() | byte() | byte()));
  });
}

const bruteForce = (all: Uint8Array[], groups: number[][][]) => {
  const a = emptyAnswer();
  all.forEach((bloom, n) => {
    if (bloomTestGroups(bloom, groups)) addBlock(a, n);
  });
  return a;
};

describe('bench oracles', () => {
  const all = blooms();
  let db: MemoryLevel<Uint8Array, Uint8Array>;
  beforeEach(() => {
    db = new MemoryLevel(VIEW);
  });
  afterEach(() => db.close());

  it('the imperative loop finds exactly the blocks whose blooms match, for every shape', async () => {
    const store = await BloomBitsStore.open(db, { sectionSize: SIZE });
    for (let s = 0; s < SECTIONS; s++) {
      const gen = new BloomBitsGenerator(SIZE);
      for (let o = 0; o < SIZE; o++) gen.addBloom(o, all[s * SIZE + o]!);
      await store.writeSection(s, new Uint8Array(32).fill(s + 1), gen.vectors());
    }
    for (const shape of SHAPES) {
      const expected = bruteForce(all, shape.groups);
      expect(expected.count).toBeGreaterThan(0);
      for (const batch of [1, 3, 16]) {
        expect(
          compareAnswers(shape.name, expected, await imperativeLoop(store, shape.groups, SECTIONS, batch)),
        ).toBeUndefined();
      }
    }
  });

  it('the naive scan finds exactly the blocks whose blooms match', async () => {
    await db.batch(all.map((bloom, n) => ({ type: 'put' as const, key: encodeUint64(n), value: bloom })));
    for (const shape of SHAPES) {
      const expected = bruteForce(all, shape.groups);
      expect(
        compareAnswers(shape.name, expected, await naiveScan(db as unknown as Db, shape.filter, all.length)),
      ).toBeUndefined();
    }
  });

  it('answers differ when a block, the order or the first block differs', () => {
    const of = (blocks: number[]) => blocks.reduce(addBlock, emptyAnswer());
    expect(compareAnswers('x', of([1, 5, 9]), of([1, 5, 9]))).toBeUndefined();
    expect(compareAnswers('x', of([1, 5, 9]), of([1, 6, 8]))).toBeDefined();
    expect(compareAnswers('x', of([1, 5, 9]), of([5, 1, 9]))).toBeDefined();
  });

  it('random vectors have the asked density', () => {
    for (const density of [0.01, 0.1, 0.5]) {
      const random = prng(3);
      let set = 0;
      for (let i = 0; i < 200; i++)
        for (const byte of randomVector(random, density)) for (let x = byte; x; x &= x - 1) set++;
      expect(set / (200 * 4096)).toBeCloseTo(density, 2);
    }
  });
});
