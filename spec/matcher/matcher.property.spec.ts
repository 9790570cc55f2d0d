import fc from 'fast-check';
import { defer, lastValueFrom, NEVER, type Observable, of, take, toArray } from 'rxjs';
import { createMatcher, type MatcherOptions } from '../../src/matcher/matcher.js';
import type { VectorRegistry } from '../../src/matcher/scheduler.js';
import { sectionBatches } from '../../src/matcher/sectionBatches.js';
import { alwaysStaged, planGroup, subMatch } from '../../src/matcher/subMatch.js';
import {
  allPairs,
  blockMatches,
  CountingRetriever,
  delayedRetriever,
  droppingRetriever,
  type Groups,
  modWorld,
  oracle,
  randomWorld,
  syncRetriever,
  vectorOf,
  type World,
} from './helpers.js';

const collect = (o: Observable<number>) => lastValueFrom(o.pipe(toArray()), { defaultValue: [] as number[] });

// 1–3 groups × 1–3 clauses × 1–3 bits from a small pool, so bits overlap across clauses and groups.
const groupsArb = fc.array(
  fc.array(fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 3 }), {
    minLength: 1,
    maxLength: 3,
  }),
  {
    minLength: 1,
    maxLength: 3,
  },
);
const worldArb = fc.oneof(
  fc.constant<[string, World]>(['mod', modWorld]),
  fc
    .tuple(fc.integer(), fc.double({ min: 0.3, max: 0.8, noNaN: true }))
    .map(([seed, d]) => [`random(${seed},${d})`, randomWorld(seed, d)] as [string, World]),
);
const queryArb = fc.record({
  world: worldArb,
  groups: groupsArb,
  fromBlock: fc.integer({ min: 0, max: 1500 }),
  length: fc.integer({ min: 0, max: 1500 }),
  sectionSize: fc.constantFrom(64, 128),
  seed: fc.integer(),
});

const RUNS = { numRuns: 40 };

describe('matcher vs brute-force oracle', () => {
  const configs: [string, Partial<MatcherOptions>][] = [
    ['workers/batch 1/1', { workers: 1, batch: 1 }],
    ['workers/batch 16/16', { workers: 16, batch: 16 }],
    ['workers/batch 3/5, lookahead 1', { workers: 3, batch: 5, lookahead: 1 }],
  ];
  it.each(configs)('synchronous retriever, %s', async (_, opts) => {
    await fc.assert(
      fc.asyncProperty(queryArb, async ({ world: [, world], groups, fromBlock, length, sectionSize }) => {
        const m = createMatcher({ retriever: syncRetriever(world, sectionSize), sectionSize, ...opts });
        const toBlock = fromBlock + length;
        expect(await collect(m.matchBits(groups, { fromBlock, toBlock }))).toEqual(
          oracle(world, groups, fromBlock, toBlock),
        );
      }),
      RUNS,
    );
  });

  it('a retriever that drops 25% of entries gives the same answer (missing entries are retried)', async () => {
    await fc.assert(
      fc.asyncProperty(
        queryArb,
        fc.boolean(),
        async ({ world: [, world], groups, fromBlock, length, sectionSize, seed }, async) => {
          const inner = async
            ? delayedRetriever(world, sectionSize, seed)
            : syncRetriever(world, sectionSize);
          const m = createMatcher({
            retriever: droppingRetriever(inner, seed),
            sectionSize,
            workers: 4,
            batch: 4,
          });
          const toBlock = fromBlock + length;
          expect(await collect(m.matchBits(groups, { fromBlock, toBlock }))).toEqual(
            oracle(world, groups, fromBlock, toBlock),
          );
        },
      ),
      { numRuns: 30 },
    );
  });

  it('async retriever with 0–2 ms delays, 1/1 and 16/16 agree with the oracle', async () => {
    await fc.assert(
      fc.asyncProperty(
        queryArb,
        async ({ world: [, world], groups, fromBlock, length, sectionSize, seed }) => {
          const toBlock = fromBlock + length;
          const expected = oracle(world, groups, fromBlock, toBlock);
          for (const [workers, batch] of [
            [1, 1],
            [16, 16],
          ] as const) {
            const m = createMatcher({
              retriever: delayedRetriever(world, sectionSize, seed),
              sectionSize,
              workers,
              batch,
            });
            expect(await collect(m.matchBits(groups, { fromBlock, toBlock }))).toEqual(expected);
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it('re-subscribing after every match (take(1), then from the next block) concatenates to the oracle', async () => {
    await fc.assert(
      fc.asyncProperty(
        queryArb,
        fc.boolean(),
        fc.boolean(),
        async ({ world: [, world], groups, fromBlock, length, sectionSize, seed }, async, smallCache) => {
          const toBlock = fromBlock + length;
          const expected = oracle(world, groups, fromBlock, toBlock).slice(0, 60);
          const retriever = async
            ? delayedRetriever(world, sectionSize, seed, 1)
            : syncRetriever(world, sectionSize);
          const m = createMatcher({
            retriever,
            sectionSize,
            batch: 4,
            cacheBytes: smallCache ? sectionSize : undefined,
          });
          const got: number[] = [];
          let from = fromBlock;
          while (got.length < expected.length) {
            const next = await collect(m.matchBits(groups, { fromBlock: from, toBlock }).pipe(take(1)));
            if (next.length === 0) break;
            got.push(next[0]!);
            from = next[0]! + 1;
          }
          expect(got).toEqual(expected);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('short-circuit and dedup: group k+1 only asks for sections that survived groups 0..k, each once', async () => {
    await fc.assert(
      fc.asyncProperty(
        queryArb,
        fc.constantFrom(1, 4, 16),
        async ({ world: [, world], groups, fromBlock, length, sectionSize }, batch) => {
          const counting = new CountingRetriever(syncRetriever(world, sectionSize));
          const m = createMatcher({ retriever: counting.retriever, sectionSize, batch, workers: batch });
          const toBlock = fromBlock + length;
          await collect(m.matchBits(groups, { fromBlock, toBlock }));
          expect(counting.duplicates()).toEqual([]);
          const firstGroup = new Map<number, number>();
          groups.forEach((g, k) => {
            for (const bit of g.flat()) if (!firstGroup.has(bit)) firstGroup.set(bit, k);
          });
          for (const key of counting.pairs.keys()) {
            const [bit, section] = key.split(':').map(Number) as [number, number];
            const before = groups.slice(0, firstGroup.get(bit));
            const lo = Math.max(fromBlock, section * sectionSize);
            const hi = Math.min(toBlock, section * sectionSize + sectionSize - 1);
            let survived = false;
            for (let n = lo; n <= hi && !survived; n++) survived = blockMatches(world, before, n);
            expect(survived).toBe(true);
          }
        },
      ),
      RUNS,
    );
  });

  it("always staged: a clause's last bit is read exactly where the rest of its clause left a block", async () => {
    // Sparse worlds, so two bits often AND to nothing in a 64-block section. The chain is
    // built by hand (sectionBatches + subMatch per group) to force two stages on every batch.
    const sparseArb = fc.record({
      seed: fc.integer(),
      density: fc.double({ min: 0.02, max: 0.3, noNaN: true }),
      groups: fc.array(
        fc.array(fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 3 }), {
          minLength: 1,
          maxLength: 3,
        }),
        { minLength: 1, maxLength: 2 },
      ),
      fromBlock: fc.integer({ min: 0, max: 1500 }),
      length: fc.integer({ min: 0, max: 1500 }),
      batch: fc.constantFrom(1, 4, 16),
    });
    await fc.assert(
      fc.asyncProperty(sparseArb, async ({ seed, density, groups, fromBlock, length, batch }) => {
        const sectionSize = 64;
        const world = randomWorld(seed, density);
        const toBlock = fromBlock + length;
        const asked = new Set<string>();
        const registry: VectorRegistry = {
          vectors: (bit, sections) =>
            defer(() => {
              for (const s of sections) asked.add(`${bit}:${s}`);
              return of(sections.map((s) => vectorOf(world, bit, s, sectionSize)));
            }),
        };
        const walk = { fromBlock, toBlock, sectionSize, batch, lookahead: Number.MAX_SAFE_INTEGER };
        let chain = sectionBatches(walk, NEVER);
        for (const group of groups) chain = chain.pipe(subMatch(registry, group, alwaysStaged));
        const blocks: number[] = [];
        for (const b of await lastValueFrom(chain.pipe(toArray())))
          b.sections.forEach((s, i) => {
            for (let o = 0; o < sectionSize; o++)
              if (b.bitsets[i]![o >> 3]! & (0x80 >> (o & 7))) blocks.push(s * sectionSize + o);
          });
        expect(blocks).toEqual(oracle(world, groups, fromBlock, toBlock));
        // The model: group k reads its first stage where groups 0..k-1 left a block, and a
        // clause's last bit where groups 0..k-1 and the clause's other bits left one.
        const expected = new Set<string>();
        for (let s = Math.floor(fromBlock / sectionSize); s <= Math.floor(toBlock / sectionSize); s++) {
          const lo = Math.max(fromBlock, s * sectionSize);
          const hi = Math.min(toBlock, s * sectionSize + sectionSize - 1);
          const some = (test: (n: number) => boolean) => {
            for (let n = lo; n <= hi; n++) if (test(n)) return true;
            return false;
          };
          for (let k = 0; k < groups.length; k++) {
            const before = groups.slice(0, k);
            if (!some((n) => blockMatches(world, before, n))) break;
            const plan = planGroup(groups[k]!);
            for (const bit of plan.first) expected.add(`${bit}:${s}`);
            groups[k]!.forEach((_clause, c) => {
              const t = plan.tails[c]!;
              if (t < 0) return;
              const head = plan.heads[c]!.map((j) => plan.first[j]!);
              if (some((n) => blockMatches(world, before, n) && head.every((bit) => world(bit, n))))
                expected.add(`${plan.last[t]!}:${s}`);
            });
          }
        }
        expect([...asked].sort()).toEqual([...expected].sort());
      }),
      RUNS,
    );
  });

  it('default (adaptive) staging on sparse worlds: the oracle, no duplicate read, only reads of surviving sections', async () => {
    const sparse = fc.record({
      seed: fc.integer(),
      density: fc.double({ min: 0.02, max: 0.3, noNaN: true }),
      groups: groupsArb,
      fromBlock: fc.integer({ min: 0, max: 3000 }),
      length: fc.integer({ min: 0, max: 3000 }),
      batch: fc.constantFrom(1, 2, 4),
    });
    await fc.assert(
      fc.asyncProperty(sparse, async ({ seed, density, groups, fromBlock, length, batch }) => {
        const sectionSize = 64;
        const world = randomWorld(seed, density);
        const counting = new CountingRetriever(delayedRetriever(world, sectionSize, seed, 1));
        const m = createMatcher({ retriever: counting.retriever, sectionSize, batch });
        const toBlock = fromBlock + length;
        expect(await collect(m.matchBits(groups, { fromBlock, toBlock }))).toEqual(
          oracle(world, groups, fromBlock, toBlock),
        );
        expect(counting.duplicates()).toEqual([]);
        const all = allPairs(groups, fromBlock, toBlock, sectionSize);
        for (const key of counting.pairs.keys()) expect(all.has(key)).toBe(true);
      }),
      RUNS,
    );
  });

  it('results are strictly ascending and in range (sanity on the oracle itself for empty-heavy worlds)', async () => {
    await fc.assert(
      fc.asyncProperty(queryArb, async ({ groups, fromBlock, length, sectionSize }) => {
        const sparse = randomWorld(1, 0.05);
        const m = createMatcher({ retriever: syncRetriever(sparse, sectionSize), sectionSize });
        const toBlock = fromBlock + length;
        const got = await collect(m.matchBits(groups, { fromBlock, toBlock }));
        expect(got).toEqual(oracle(sparse, groups as Groups, fromBlock, toBlock));
        for (let i = 1; i < got.length; i++) expect(got[i]!).toBeGreaterThan(got[i - 1]!);
      }),
      RUNS,
    );
  });
});
