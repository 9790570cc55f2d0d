import fc from 'fast-check';
import { MemoryLevel } from 'memory-level';
import { from, lastValueFrom, type Observable, toArray } from 'rxjs';
import { BloomIndex, type HeaderSource } from '../../src/bloomIndex.js';
import { BeyondHeadError, ChainError, IndexBusyError, InvalidRangeError } from '../../src/errors.js';
import type { IndexHeadersOptions } from '../../src/indexer/types.js';
import type { BlockHeader, LogFilter } from '../../src/types/chain.js';
import type { Hex } from '../../src/types/hex.js';
import { ADDRESSES, bruteMatch, dumpDb, makeChain, TOPICS, UNUSED_ADDRESS, withField } from './helpers.js';

const SIZE = 64;
const CONF = 8;
const OPTS = { sectionSize: SIZE, confirmations: CONF };

type Db = MemoryLevel<Uint8Array, Uint8Array>;
const newDb = (): Db =>
  new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: 'view', valueEncoding: 'view' });

const dbs: Db[] = [];
afterEach(async () => {
  await Promise.all(dbs.splice(0).map((db) => db.close()));
});

async function openIndex(db = newDb(), opts: object = OPTS): Promise<{ db: Db; index: BloomIndex }> {
  if (!dbs.includes(db)) dbs.push(db);
  return { db, index: await BloomIndex.open(db, opts) };
}

const run = (index: BloomIndex, source: HeaderSource, options?: IndexHeadersOptions) =>
  lastValueFrom(index.indexHeaders(source, options), { defaultValue: undefined });
const factory =
  (headers: readonly BlockHeader[]) =>
  (fromBlock: number): Observable<BlockHeader> =>
    from(headers.slice(fromBlock));
const all = <T>(o: Observable<T>) => lastValueFrom(o.pipe(toArray()));

async function fresh(headers: readonly BlockHeader[], opts: object = OPTS) {
  const { db, index } = await openIndex(newDb(), opts);
  await run(index, from(headers));
  return { db, index };
}

/** A fixed set of filters covering addresses, OR lists, wildcards and trailing nulls. */
const FILTERS: LogFilter[] = [
  {},
  { address: ADDRESSES[0] },
  { address: [ADDRESSES[1]!, ADDRESSES[2]!] },
  { topics: [TOPICS[0]!] },
  { topics: [null, TOPICS[3]!] },
  { topics: [[TOPICS[1]!, TOPICS[2]!], null, TOPICS[5]!] },
  { address: ADDRESSES[3], topics: [TOPICS[4]!, null, null] },
  { address: [ADDRESSES[5]!, ADDRESSES[6]!], topics: [null, [TOPICS[7]!, TOPICS[8]!]] },
  { address: UNUSED_ADDRESS },
  { topics: [TOPICS[9]!, TOPICS[10]!, TOPICS[11]!, TOPICS[0]!] },
];

/** match() equals the brute-force scan for every filter in FILTERS over several ranges. */
async function expectMatchesBrute(index: BloomIndex, headers: readonly BlockHeader[]) {
  const head = headers.length - 1;
  const ranges: [number, number][] = [
    [0, head],
    [5, 5 * SIZE + 17],
    [SIZE - 1, SIZE],
    [index.info().indexedHead + 1, head],
  ];
  for (const filter of FILTERS) {
    for (const [a, b] of ranges) {
      expect(await all(index.match(filter, { fromBlock: a, toBlock: b }))).toEqual(
        bruteMatch(headers, filter, a, b),
      );
    }
  }
}

describe('BloomIndex on synthetic chains', () => {
  const chain = makeChain(700, 1);

  it('commits the confirmed sections and answers match() like a brute-force bloom scan', async () => {
    const { index } = await fresh(chain);
    // section s is committed once 699 - (64s + 63) >= 8, i.e. s <= 9
    expect(index.info()).toEqual({
      sectionSize: SIZE,
      confirmations: CONF,
      sections: 10,
      indexedHead: 639,
      head: 699,
      tailLength: 60,
    });
    expect(index.nextBlock).toBe(700);
    await expectMatchesBrute(index, chain);
    // an empty filter matches every block; 'latest' is the head; an explicit end past the head of an
    // index nobody is indexing is a BeyondHeadError (not a silently shorter answer)
    expect(await all(index.match({}, { fromBlock: 630, toBlock: 'latest' }))).toEqual(
      Array.from({ length: 70 }, (_, i) => 630 + i),
    );
    const beyond = await all(index.match({}, { fromBlock: 695, toBlock: 10_000 })).catch((e) => e);
    expect(beyond).toBeInstanceOf(BeyondHeadError);
    expect(beyond).toMatchObject({ head: 699, requested: 10_000 });
    await expect(all(index.match({}, { fromBlock: 800, toBlock: 900 }))).rejects.toBeInstanceOf(
      BeyondHeadError,
    );
  });

  it('property: random filters and ranges (committed-only, tail-only, across) equal the brute-force scan', async () => {
    const { index } = await fresh(chain);
    const position = fc.oneof(
      fc.constant(null),
      fc.constantFrom(...TOPICS),
      fc.uniqueArray(fc.constantFrom(...TOPICS), { minLength: 1, maxLength: 3 }),
    );
    const filter = fc.record(
      {
        address: fc.oneof(
          fc.constantFrom(...ADDRESSES, UNUSED_ADDRESS),
          fc.uniqueArray(fc.constantFrom(...ADDRESSES), { minLength: 1, maxLength: 3 }),
        ),
        topics: fc.array(position, { maxLength: 4 }),
      },
      { requiredKeys: [] },
    );
    const range = fc.oneof(
      fc.tuple(fc.nat(639), fc.nat(639)), // committed only
      fc.tuple(fc.integer({ min: 640, max: 699 }), fc.integer({ min: 640, max: 699 })), // tail only
      fc.tuple(fc.nat(699), fc.nat(699)),
    );
    await fc.assert(
      fc.asyncProperty(filter, range, async (f, [x, y]) => {
        const [a, b] = x <= y ? [x, y] : [y, x];
        const got = await all(index.match(f as LogFilter, { fromBlock: a, toBlock: b }));
        expect(got).toEqual(bruteMatch(chain, f as LogFilter, a, b));
      }),
      { numRuns: 150, seed: 42 },
    );
  });

  it('rejects a reversed range with InvalidRangeError and answers an empty index with nothing', async () => {
    const { index } = await fresh(chain.slice(0, 100));
    await expect(all(index.match({}, { fromBlock: 50, toBlock: 10 }))).rejects.toBeInstanceOf(
      InvalidRangeError,
    );
    const empty = (await openIndex()).index;
    expect(empty.info().head).toBe(-1);
    expect(await all(empty.match({}, { fromBlock: 0, toBlock: 'latest' }))).toEqual([]);
  });

  describe('reorgs re-index to the same store and answers as a fresh index of the new chain', () => {
    const cases: [string, number, number, 'factory' | 'replay'][] = [
      ['shallow (inside the tail), factory source', 695, 710, 'factory'],
      ['shallow (inside the tail), full replay', 690, 705, 'replay'],
      ['at the first tail block, factory source', 640, 705, 'factory'],
      ['deep (rolls back two committed sections), factory source', 560, 720, 'factory'],
      ['deep and shorter than before, factory source', 300, 650, 'factory'],
    ];
    it.each(cases)('%s', async (name, forkAt, length, kind) => {
      const next = makeChain(length, 2, chain, forkAt);
      const { db, index } = await fresh(chain);
      if (length <= chain.length) {
        // a shorter branch is only noticed when it grows past the old head: extend it
        next.push(...makeChain(chain.length + 3, 3, next, next.length).slice(next.length));
      }
      const deep = name.startsWith('deep');
      if (deep) {
        // without the opt-in a deep reorg fails and changes nothing
        const before = await dumpDb(db);
        const error = await run(index, kind === 'factory' ? factory(next) : from(next)).catch((e) => e);
        expect(error).toBeInstanceOf(ChainError);
        expect(error.message).toMatch(/allowDeepReorg/);
        expect(await dumpDb(db)).toEqual(before);
        expect(index.info().head).toBe(699);
      }
      await run(index, kind === 'factory' ? factory(next) : from(next), { allowDeepReorg: deep });
      const expected = await fresh(next);
      expect(index.info()).toEqual(expected.index.info());
      expect(await dumpDb(db)).toEqual(await dumpDb(expected.db));
      await expectMatchesBrute(index, next);
    });

    it('a deep reorg fed as a plain observable of the whole new chain re-indexes it (allowDeepReorg)', async () => {
      const next = makeChain(720, 2, chain, 560);
      const { db, index } = await fresh(chain);
      await run(index, from(next), { allowDeepReorg: true });
      const expected = await fresh(next);
      expect(index.info()).toEqual(expected.index.info());
      expect(await dumpDb(db)).toEqual(await dumpDb(expected.db));
    });

    it('a plain observable starting above the fork fails with ChainError and leaves the index as it was', async () => {
      const next = makeChain(720, 2, chain, 560);
      const { db, index } = await fresh(chain);
      const before = await dumpDb(db);
      for (const start of [600, 650, 700]) {
        const error = await run(index, from(next.slice(start)), { allowDeepReorg: true }).catch((e) => e);
        expect(error).toBeInstanceOf(ChainError);
        expect(index.info().head).toBe(699);
        expect(await dumpDb(db)).toEqual(before);
      }
    });

    describe('a source that sees the chain reorganise between two of its own headers (a live node)', () => {
      // The first subscription serves the old chain up to `switchAt`, then the new branch: what a
      // polling source sees when the node reorganises between two polls. Later ones serve the new chain.
      const switching = (old: readonly BlockHeader[], next: readonly BlockHeader[], switchAt: number) => {
        let calls = 0;
        const factorySource = (fromBlock: number): Observable<BlockHeader> =>
          calls++ === 0
            ? from([...old.slice(fromBlock, switchAt), ...next.slice(switchAt)])
            : from(next.slice(fromBlock));
        return { factorySource, calls: () => calls };
      };

      it.each([
        ['inside the tail', 690, 700],
        ['at the switch itself', 694, 695],
        ['below the tail (allowDeepReorg)', 600, 698],
      ])(
        'a factory source is asked again from lower down: the fork %s (at %i, switch at %i)',
        async (name, forkAt, switchAt) => {
          const next = makeChain(730, 4, chain, forkAt);
          const { db, index } = await openIndex();
          await run(index, from(chain.slice(0, 680)));
          const source = switching(chain, next, switchAt);
          await run(index, source.factorySource, { allowDeepReorg: name.includes('below') });
          expect(source.calls()).toBeGreaterThan(1);
          const expected = await fresh(next);
          expect(index.info()).toEqual(expected.index.info());
          expect(await dumpDb(db)).toEqual(await dumpDb(expected.db));
          await expectMatchesBrute(index, next);
        },
      );

      it('a factory source that serves the same broken link again fails with ChainError naming it', async () => {
        const { index } = await openIndex();
        const broken = chain.map((h) =>
          h.number === 650 ? withField(h, { parentHash: `0x${'ab'.repeat(32)}` }) : h,
        );
        let calls = 0;
        const error = await run(index, (fromBlock: number) => {
          calls++;
          return from(broken.slice(fromBlock));
        }).catch((e) => e);
        expect(error).toBeInstanceOf(ChainError);
        expect(error.message).toMatch(/block 650 does not build on block 649 from the same source/);
        // Asked once more from lower down (it could have been a reorg), then given up.
        expect(calls).toBe(2);
        expect(index.info().head).toBe(649);
      });

      it('a plain source cannot be asked again: ChainError, with the headers before the break indexed', async () => {
        const next = makeChain(730, 4, chain, 690);
        const { index } = await openIndex();
        await run(index, from(chain.slice(0, 680)));
        const error = await run(index, from([...chain.slice(680, 700), ...next.slice(700)])).catch((e) => e);
        expect(error).toBeInstanceOf(ChainError);
        expect(error.message).toMatch(/does not build on block 699 from the same source/);
        expect(index.info().head).toBe(699);
      });
    });

    it('a plain observable of a branch not building on the index fails with ChainError', async () => {
      const next = makeChain(720, 2, chain, 695);
      const { index } = await fresh(chain);
      await expect(run(index, from(next.slice(700)))).rejects.toThrow(ChainError);
    });
  });

  describe('restarts', () => {
    it.each([333, 640, 64, 1])(
      'reopening after %i blocks and continuing gives the same store',
      async (cut) => {
        const db = newDb();
        await run((await openIndex(db)).index, from(chain.slice(0, cut)));
        const reopened = (await openIndex(db)).index;
        expect(reopened.nextBlock).toBe(cut);
        // replaying from genesis skips what is known
        await run(reopened, from(chain));
        const expected = await fresh(chain);
        expect(await dumpDb(db)).toEqual(await dumpDb(expected.db));
        const again = (await openIndex(db)).index;
        expect(again.info()).toEqual(expected.index.info());
        await expectMatchesBrute(again, chain);
      },
    );

    it('tail entries below the committed sections (left by a crash in older versions) are ignored, never deleted on open', async () => {
      const { db } = await fresh(chain);
      // fake leftovers: tail entries of blocks 100..102, inside committed section 1
      const key = (n: number) => {
        const k = new Uint8Array(10);
        k.set([0x69, 0x54]);
        new DataView(k.buffer).setUint32(6, n);
        return k;
      };
      const value = new Uint8Array(32 + 256).fill(7);
      for (const n of [100, 101, 102]) await db.put(key(n), value);
      const before = await dumpDb(db);
      const reopened = (await openIndex(db)).index;
      reopened.info();
      await expectMatchesBrute(reopened, chain);
      expect(await dumpDb(db)).toEqual(before);
      expect(reopened.info().head).toBe(699);
    });
  });

  describe('bad input', () => {
    const headers = chain.slice(0, 20);
    const bad: [string, BlockHeader[]][] = [
      ['a gap', [...headers.slice(0, 10), ...headers.slice(11)]],
      [
        'a wrong parent hash',
        [...headers.slice(0, 10), withField(headers[10]!, { parentHash: headers[8]!.hash })],
      ],
      ['a short logsBloom', [...headers.slice(0, 5), withField(headers[5]!, { logsBloom: '0x00' })]],
      ['a malformed hash', [...headers.slice(0, 5), withField(headers[5]!, { hash: '0x1234' as Hex })]],
      ['a negative number', [withField(headers[0]!, { number: -1 })]],
      ['a fractional number', [headers[0]!, withField(headers[1]!, { number: 1.5 })]],
      ['not starting at block 0', headers.slice(3)],
    ];
    it.each(bad)('%s fails with ChainError and keeps what came before', async (_name, input) => {
      const { index } = await openIndex();
      const error = await run(index, from(input)).catch((e) => e);
      expect(error).toBeInstanceOf(ChainError);
      expect(error.message).toMatch(/block|header/);
      // the index stays usable: the good prefix is kept, and a correct source continues it
      const kept = index.nextBlock;
      expect(kept).toBeLessThanOrEqual(10);
      await run(index, factory(headers));
      expect(index.info().head).toBe(19);
    });

    it('a factory source whose blocks do not link fails with ChainError instead of restarting forever', async () => {
      const broken = [
        ...headers.slice(0, 10),
        withField(headers[10]!, { parentHash: headers[8]!.hash }),
        ...headers.slice(11),
      ];
      const { index } = await openIndex();
      let calls = 0;
      const source = (fromBlock: number) => {
        if (++calls > 100) throw new Error(`resubscribed ${calls} times`);
        return from(broken.slice(fromBlock));
      };
      await expect(run(index, source)).rejects.toBeInstanceOf(ChainError);
    });

    it('two concurrent indexHeaders runs: the second fails, a later one works', async () => {
      const { index } = await openIndex();
      let release!: () => void;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      const slow = (async function* () {
        for (const h of headers.slice(0, 10)) {
          if (h.number === 5) await gate;
          yield h;
        }
      })();
      const first = run(index, slow);
      await expect(run(index, from(headers))).rejects.toBeInstanceOf(IndexBusyError);
      release();
      await first;
      expect(index.nextBlock).toBe(10);
      await run(index, factory(headers));
      expect(index.nextBlock).toBe(20);
    });
  });
});
