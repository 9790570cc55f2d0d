import fc from 'fast-check';
import { lastValueFrom, map, type Observable, of, Subject, toArray } from 'rxjs';
import { blocksOfBatch } from '../../src/matcher/blockNumbers.js';
import { createMatcher } from '../../src/matcher/matcher.js';
import type { Retriever, SectionBatch } from '../../src/matcher/types.js';
import { fetchCandidates } from '../../src/operators/fetchCandidates.js';
import { type Groups, oracle, randomWorld, syncRetriever, vectorOf, type World } from './helpers.js';

const collect = <T>(o: Observable<T>) => lastValueFrom(o.pipe(toArray()), { defaultValue: [] as T[] });

/** Answers from a resolved Promise (a microtask later). */
const promiseRetriever =
  (world: World, sectionSize: number): Retriever =>
  ({ bit, sections }) =>
    Promise.resolve(sections.map((s) => vectorOf(world, bit, s, sectionSize)));

/**
 * Pulls every batch of a matchBatches query: a credit after each batch (synchronously or a
 * macrotask later); checks the lookahead bound and the batch invariants on the way.
 */
function pullAll(
  start: (credits$: Observable<unknown>) => Observable<SectionBatch>,
  lookahead: number,
  asyncCredits: boolean,
): Promise<SectionBatch[]> {
  return new Promise((resolve, reject) => {
    const credits = new Subject<void>();
    const batches: SectionBatch[] = [];
    let returned = 0;
    start(credits).subscribe({
      next: (batch) => {
        batches.push(batch);
        if (batches.length - returned > lookahead)
          reject(new Error(`${batches.length - returned} batches ahead`));
        const give = () => {
          returned++;
          credits.next();
        };
        if (asyncCredits) setTimeout(give, 0);
        else give();
      },
      error: reject,
      complete: () => resolve(batches),
    });
  });
}

const groupsArb: fc.Arbitrary<Groups> = fc.array(
  fc.array(fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 1, maxLength: 3 }), {
    minLength: 1,
    maxLength: 2,
  }),
  { minLength: 0, maxLength: 3 },
);

const queryArb = fc.record({
  seed: fc.integer(),
  density: fc.double({ min: 0.2, max: 0.9, noNaN: true }),
  groups: groupsArb,
  fromBlock: fc.integer({ min: 0, max: 5000 }),
  // mostly small ranges, some up to 120k blocks (the big examples below always run)
  length: fc.oneof(
    { arbitrary: fc.integer({ min: 0, max: 4000 }), weight: 6 },
    { arbitrary: fc.integer({ min: 0, max: 120_000 }), weight: 1 },
  ),
  sectionSize: fc.constantFrom(64, 256),
  retrieval: fc.constantFrom('sync', 'promise'),
  lookahead: fc.integer({ min: 1, max: 4 }),
  asyncCredits: fc.boolean(),
});

const big = {
  seed: 5,
  density: 0.6,
  groups: [[[1, 2]], [[3], [4, 5]]],
  fromBlock: 17,
  length: 110_000,
  sectionSize: 64,
  lookahead: 2,
};

/** A matcher over `world` with the query's retrieval kind, section size and look-ahead. */
const matcherFor = (world: World, q: { retrieval: string; sectionSize: number; lookahead: number }) =>
  createMatcher({
    retriever:
      q.retrieval === 'sync' ? syncRetriever(world, q.sectionSize) : promiseRetriever(world, q.sectionSize),
    sectionSize: q.sectionSize,
    lookahead: q.lookahead,
  });

describe('matchBatches, matchBits and match vs a brute-force oracle (up to 120k blocks)', () => {
  it('matchBatches: only non-empty batches, ascending, inside the range, lookahead respected, blocks = oracle', async () => {
    await fc.assert(
      fc.asyncProperty(queryArb, async (q) => {
        const world = randomWorld(q.seed, q.density);
        const m = matcherFor(world, q);
        const toBlock = q.fromBlock + q.length;
        const range = { fromBlock: q.fromBlock, toBlock };
        const batches = await pullAll((c) => m.matchBatches(q.groups, range, c), q.lookahead, q.asyncCredits);
        const blocks: number[] = [];
        let lastSection = -1;
        for (const batch of batches) {
          expect(batch.sections.length).toBeGreaterThan(0);
          expect(batch.bitsets.length).toBe(batch.sections.length);
          for (const s of batch.sections) {
            expect(s).toBeGreaterThan(lastSection);
            lastSection = s;
          }
          expect(batch.bitsets.some((b) => b.some((x) => x !== 0))).toBe(true);
          for (const n of blocksOfBatch(batch, q.sectionSize)) blocks.push(n);
        }
        expect(blocks).toEqual(oracle(world, q.groups, q.fromBlock, toBlock));
      }),
      { numRuns: 8, seed: 3, examples: [[{ ...big, retrieval: 'sync', asyncCredits: false }]] },
    );
  });

  it('matchBits and match agree with the oracle (sync and promise retrievers)', async () => {
    await fc.assert(
      fc.asyncProperty(queryArb, async (q) => {
        const world = randomWorld(q.seed, q.density);
        const m = matcherFor(world, q);
        const range = { fromBlock: q.fromBlock, toBlock: q.fromBlock + q.length };
        const expected = oracle(world, q.groups, range.fromBlock, range.toBlock);
        expect(await collect(m.matchBits(q.groups, range))).toEqual(expected);
        // an empty filter compiles to no groups
        if (q.groups.length === 0) expect(await collect(m.match({}, range))).toEqual(expected);
      }),
      {
        numRuns: 6,
        seed: 4,
        examples: [[{ ...big, sectionSize: 256, retrieval: 'promise', asyncCredits: false }]],
      },
    );
  });

  it('matchBatches feeding fetchCandidates yields every candidate once, in order (sync and async fetch)', async () => {
    const world = randomWorld(9, 0.7);
    const sectionSize = 64;
    const groups: Groups = [[[1, 2]], [[3]]];
    const m = createMatcher({ retriever: promiseRetriever(world, sectionSize), sectionSize, lookahead: 3 });
    const range = { fromBlock: 3, toBlock: 130_000 };
    const expected = oracle(world, groups, range.fromBlock, range.toBlock);
    const fetched = await collect(
      fetchCandidates(
        (credits$) => m.matchBatches(groups, range, credits$).pipe(map((b) => blocksOfBatch(b, sectionSize))),
        (n) => (n % 2 === 0 ? of(n) : Promise.resolve(n)),
        4,
      ),
    );
    expect(fetched.length).toBeGreaterThan(1000);
    expect(fetched).toEqual(expected);
  });

  it('zero groups: every block of the range in all-ones batches clipped to it', async () => {
    const m = createMatcher({ retriever: () => [], sectionSize: 64, lookahead: 2 });
    const batches = await pullAll((c) => m.matchBatches([], { fromBlock: 70, toBlock: 1000 }, c), 2, false);
    const blocks = batches.flatMap((b) => [...blocksOfBatch(b, 64)]);
    expect(blocks).toEqual(Array.from({ length: 931 }, (_, i) => 70 + i));
  });

  it('a group without clauses matches nothing', async () => {
    const m = createMatcher({ retriever: () => [], sectionSize: 64 });
    expect(await collect(m.matchBatches([[]], { fromBlock: 0, toBlock: 1000 }, of()))).toEqual([]);
  });

  it('emits lookahead batches, then one per credit', () => {
    const m = createMatcher({
      retriever: syncRetriever(randomWorld(1, 1), 64),
      sectionSize: 64,
      batch: 1,
      lookahead: 3,
    });
    const credits = new Subject<void>();
    const seen: number[] = [];
    const sub = m
      .matchBatches([[[1]]], { fromBlock: 0, toBlock: 64 * 100 - 1 }, credits)
      .subscribe((b) => seen.push(b.sections[0]!));
    expect(seen).toEqual([0, 1, 2]);
    credits.next();
    expect(seen).toEqual([0, 1, 2, 3]);
    sub.unsubscribe();
  });
});

describe('blocksOfBatch', () => {
  it('is lazy and ascending', () => {
    const it = blocksOfBatch({ sections: [2, 5], bitsets: [Uint8Array.of(0x81), Uint8Array.of(0x40)] }, 8);
    expect(it.next().value).toBe(16);
    expect([...it]).toEqual([23, 41]);
  });
});
