import fc from 'fast-check';
import { MemoryLevel } from 'memory-level';
import { from, lastValueFrom, type Observable, of, Subject, takeUntil, timer } from 'rxjs';
import { map, tap } from 'rxjs/operators';
import { bloomTest } from '../../src/bloom/index.js';
import { BloomIndex } from '../../src/bloomIndex.js';
import { BlockNotFoundError, ChainError, type Hex, InvalidOptionError, type Log } from '../../src/index.js';
import type { BlockHeader } from '../../src/types/chain.js';
import { hexToBytes } from '../../src/types/hex.js';
import { standingLogs } from '../helpers/retractions.js';
import { ADDRESSES, makeChain, syntheticLog } from './helpers.js';

/*
 * watch across reorgs: logs of replaced blocks come again with `removed: true`, and
 * retracting them leaves exactly the logs of the chain the index holds (the oracle:
 * every block of that chain whose bloom passes, one log each, pinned to its hash).
 */

const address = ADDRESSES[0]!;
const passes = (h: BlockHeader) => bloomTest(hexToBytes(h.logsBloom), hexToBytes(address));

/**
 * One log of `address` per block, as a node would answer: of the block asked for by hash, else of
 * the block at that height on the node's chain now (`node()`); sync or a macrotask later.
 */
const receiptsOf =
  (async: boolean, node: () => readonly BlockHeader[] = () => []) =>
  ({ number, hash }: { number: number; hash?: Hex }): Observable<Log[]> => {
    const logs = [syntheticLog(number, hash ?? node()[number]?.hash, address)];
    return async ? timer(0).pipe(map(() => logs)) : of(logs);
  };

/** Receipts as a node on `node()` answers: a block asked for by a hash it does not hold is not found. */
const nodeReceipts =
  (node: () => readonly BlockHeader[]) =>
  ({ number, hash }: { number: number; hash?: Hex }): Observable<Log[]> =>
    timer(0).pipe(
      map(() => {
        const held = node()[number];
        if (held === undefined || (hash !== undefined && held.hash !== hash))
          throw new BlockNotFoundError(`block ${number} not found`, number, hash);
        return [syntheticLog(number, held.hash, address)];
      }),
    );

const key = (l: Log) => `${Number(l.blockNumber)}:${l.blockHash}`;

const standing = (seen: readonly Log[]) => standingLogs(seen, key);

const run = (index: BloomIndex, headers: readonly BlockHeader[], allowDeepReorg = false) =>
  lastValueFrom(index.indexHeaders(from(headers), { allowDeepReorg }), { defaultValue: undefined });

const dbs: MemoryLevel<Uint8Array, Uint8Array>[] = [];
afterEach(async () => {
  await Promise.all(dbs.splice(0).map((db) => db.close()));
});
/** An index on a fresh memory-level db (closed after the test). */
async function openIndex(options: { sectionSize: number; confirmations: number }): Promise<BloomIndex> {
  const db = new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: 'view', valueEncoding: 'view' });
  dbs.push(db);
  return BloomIndex.open(db, options);
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (macrotasks) until `done()` or ~2 s. */
async function settle(done: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !done(); i++) await new Promise((r) => setTimeout(r, 5));
}

describe('BloomIndex.watch across reorgs', () => {
  it('retracts the logs of replaced blocks and delivers the new ones: what stands is the held chain', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          length: fc.integer({ min: 20, max: 90 }),
          confirmations: fc.integer({ min: 2, max: 12 }),
          forks: fc.array(
            fc.record({ depth: fc.integer({ min: 1, max: 12 }), grow: fc.integer({ min: 0, max: 25 }) }),
            {
              minLength: 1,
              maxLength: 3,
            },
          ),
          fromBlock: fc.integer({ min: 0, max: 30 }),
          async: fc.boolean(),
          // The node rejects hashes it no longer has (else it still serves reorged-out blocks).
          strict: fc.boolean(),
          pause: fc.boolean(),
        }),
        async ({ length, confirmations, forks, fromBlock, async, strict, pause }) => {
          const db = new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: 'view', valueEncoding: 'view' });
          const expectedOf = (c: readonly BlockHeader[]) =>
            c.filter((h) => h.number >= fromBlock && passes(h)).map((h) => `${h.number}:${h.hash}`);
          try {
            const index = await BloomIndex.open(db, { sectionSize: 8, confirmations });
            const seen: Log[] = [];
            const stop = new Subject<void>();
            let failure: unknown;
            // The node's chain: what it answers for a block asked for by number.
            let chain = makeChain(length, 1);
            index
              .watch(
                { address },
                { receipts: strict ? nodeReceipts(() => chain) : receiptsOf(async, () => chain), fromBlock },
              )
              .pipe(takeUntil(stop))
              .subscribe({ next: (l) => seen.push(l), error: (e) => (failure = e) });
            await run(index, chain);
            for (const [i, { depth, grow }] of forks.entries()) {
              // Without `pause`, the reorg lands while the watch is still fetching (async receipts).
              if (pause)
                await settle(
                  () => failure !== undefined || standing(seen).join() === expectedOf(chain).join(),
                );
              const fork = Math.max(chain.length - 1 - Math.min(depth, confirmations), 1);
              chain = makeChain(chain.length + grow, 10 + i, chain, fork + 1);
              // A plain source must start at or below the fork.
              await run(index, chain.slice(fork));
            }
            const expected = expectedOf(chain);
            await settle(() => failure !== undefined || standing(seen).join() === expected.join());
            stop.next();
            expect(failure).toBeUndefined();
            expect(standing(seen)).toEqual(expected);
          } finally {
            await db.close();
          }
        },
      ),
      { numRuns: 40, seed: 12 },
    );
  }, 60_000);

  it('a reorg after everything was delivered retracts exactly the replaced blocks\u2019 logs, oldest first', async () => {
    const index = await openIndex({ sectionSize: 32, confirmations: 64 });
    const a = makeChain(160, 7);
    // Replace 104..159 (in the unindexed tail) by a longer branch.
    const b = makeChain(165, 9, a, 104);
    const seen: Log[] = [];
    const stop = new Subject<void>();
    index
      .watch({ address }, { receipts: receiptsOf(false) })
      .pipe(takeUntil(stop))
      .subscribe((l) => seen.push(l));
    await run(index, a);
    const before = seen.length;
    await run(index, b.slice(100));
    stop.next();
    const replaced = a.filter((h) => h.number >= 104 && passes(h)).map((h) => `${h.number}:${h.hash}`);
    const added = b.filter((h) => h.number >= 104 && passes(h)).map((h) => `${h.number}:${h.hash}`);
    expect(replaced.length + added.length).toBeGreaterThan(1);
    const after = seen.slice(before);
    expect(after.filter((l) => l.removed).map(key)).toEqual(replaced);
    expect(after.filter((l) => !l.removed).map(key)).toEqual(added);
    // Retractions come before the new branch's logs.
    expect(after.findIndex((l) => !l.removed)).toBe(replaced.length);
  });

  it('headers below a fromBlock past the head are not taken for a reorg', async () => {
    const index = await openIndex({ sectionSize: 16, confirmations: 4 });
    const chain = makeChain(120, 3);
    await run(index, chain.slice(0, 40));
    const seen: Log[] = [];
    const stop = new Subject<void>();
    index
      .watch({ address }, { receipts: receiptsOf(false), fromBlock: 80 })
      .pipe(takeUntil(stop))
      .subscribe((l) => seen.push(l));
    await run(index, chain.slice(40));
    stop.next();
    expect(seen.some((l) => l.removed)).toBe(false);
    expect(seen.map(key)).toEqual(
      chain.filter((h) => h.number >= 80 && passes(h)).map((h) => `${h.number}:${h.hash}`),
    );
  });

  it('a deep reorg past the logs it still holds fails the watch with ChainError, not a stale answer', async () => {
    const index = await openIndex({ sectionSize: 8, confirmations: 2 });
    const a = makeChain(100, 7);
    // The last block of section 2: a block the index knows the hash of, where a plain source may start.
    const fork = 23;
    // The blocks the reorg replaces include delivered logs far below the tail.
    expect(a.some((h) => h.number > fork && h.number < 70 && passes(h))).toBe(true);
    let failure: unknown;
    const sub = index
      .watch({ address }, { receipts: receiptsOf(false) })
      .subscribe({ error: (e) => (failure = e) });
    // Two runs: the second one's catch-up steps see committed sections, below which logs are let go.
    await run(index, a.slice(0, 60));
    await run(index, a.slice(60));
    expect(failure).toBeUndefined();
    const b = makeChain(110, 9, a, fork + 1);
    await run(index, b.slice(fork), true);
    expect(failure).toBeInstanceOf(ChainError);
    sub.unsubscribe();
  });
  it('a deep reorg within reorgDepth (allowDeepReorg) is retracted like any other', async () => {
    const index = await openIndex({ sectionSize: 8, confirmations: 2 });
    const a = makeChain(100, 7);
    const seen: Log[] = [];
    const sub = index
      .watch({ address }, { receipts: receiptsOf(false), reorgDepth: 90 })
      .subscribe((l) => seen.push(l));
    await run(index, a.slice(0, 60));
    await run(index, a.slice(60));
    const b = makeChain(110, 9, a, 24);
    await run(index, b.slice(23), true);
    expect(seen.filter((l) => l.removed).length).toBeGreaterThan(2);
    expect(standing(seen)).toEqual(b.filter(passes).map((h) => `${h.number}:${h.hash}`));
    sub.unsubscribe();
  });
  it('keeps the logs of the last reorgDepth blocks only: a deeper reorg inside the tail fails with ChainError', async () => {
    // A long tail (nothing committed): the index takes the reorg without allowDeepReorg.
    const index = await openIndex({ sectionSize: 256, confirmations: 8 });
    const a = makeChain(120, 7);
    const fork = a.findIndex((h) => h.number > 20 && passes(h)) - 1;
    expect(fork).toBeGreaterThan(19);
    let failure: unknown;
    const sub = index
      .watch({ address }, { receipts: receiptsOf(false), reorgDepth: 30 })
      .subscribe({ error: (e) => (failure = e) });
    for (let from = 0; from < 120; from += 10) await run(index, a.slice(from, from + 10));
    expect(failure).toBeUndefined();
    await run(index, makeChain(125, 9, a, fork + 1).slice(fork));
    expect(failure).toBeInstanceOf(ChainError);
    expect((failure as Error).message).toMatch(/reorgDepth 30/);
    sub.unsubscribe();
  });

  it('rejects a bad reorgDepth with InvalidOptionError', async () => {
    const index = await openIndex({ sectionSize: 8, confirmations: 2 });
    for (const reorgDepth of [-1, 1.5, Number.NaN]) {
      await expect(
        lastValueFrom(index.watch({ address }, { receipts: receiptsOf(false), reorgDepth })),
      ).rejects.toThrow(InvalidOptionError);
    }
  });

  describe('a block the node no longer has (a reorg the index has not seen yet)', () => {
    it('waits for the next heads, then the reorg fetches the new branch: no error, nothing stale stands', async () => {
      const index = await openIndex({ sectionSize: 16, confirmations: 40 });
      const a = makeChain(140, 7);
      const b = makeChain(150, 9, a, 96);
      // The old branch has candidates past 100 that the node will have dropped.
      expect(a.some((h) => h.number >= 100 && passes(h))).toBe(true);
      let node: readonly BlockHeader[] = a;
      const seen: Log[] = [];
      let failure: unknown;
      const sub = index
        .watch({ address }, { receipts: nodeReceipts(() => node) })
        .subscribe({ next: (l) => seen.push(l), error: (e) => (failure = e) });
      await run(index, a.slice(0, 100));
      await settle(() => standing(seen).length === a.filter((h) => h.number < 100 && passes(h)).length);
      // The node reorganises; the index, fed by a slower source, still takes the old branch's heads.
      node = b;
      await run(index, a.slice(100, 140));
      await pause(50);
      expect(failure).toBeUndefined();
      await run(index, b.slice(95));
      const expected = b.filter(passes).map((h) => `${h.number}:${h.hash}`);
      await settle(() => failure !== undefined || standing(seen).join() === expected.join());
      expect(failure).toBeUndefined();
      expect(standing(seen)).toEqual(expected);
      sub.unsubscribe();
    });

    it('a reorg at a block delivered just before the miss retracts it', async () => {
      const index = await openIndex({ sectionSize: 16, confirmations: 60 });
      const a = makeChain(140, 7);
      const [n, m] = a.filter((h) => h.number >= 100 && passes(h)).map((h) => h.number);
      expect(m).toBeDefined();
      // The node serves block n of the old branch, then reorganises from n on: m is not found.
      const b = makeChain(150, 9, a, n!);
      let node: readonly BlockHeader[] = a;
      const receipts = (q: { number: number; hash?: Hex }) =>
        nodeReceipts(() => node)(q).pipe(
          tap(() => {
            if (q.number === n) node = b;
          }),
        );
      const seen: Log[] = [];
      let failure: unknown;
      // One catch-up step over the whole chain: n is delivered, then m is missed and the step waits.
      await run(index, a);
      const sub = index
        .watch({ address }, { receipts })
        .subscribe({ next: (l) => seen.push(l), error: (e) => (failure = e) });
      await settle(() => seen.some((l) => Number(l.blockNumber) === n));
      await pause(50);
      // The index now sees the reorg: its first new header is block n itself.
      await run(index, b.slice(n! - 1));
      const expected = b.filter(passes).map((h) => `${h.number}:${h.hash}`);
      await settle(() => failure !== undefined || standing(seen).join() === expected.join());
      expect(failure).toBeUndefined();
      expect(standing(seen)).toEqual(expected);
      expect(seen.filter((l) => l.removed).map(key)).toEqual([`${n}:${a[n!]!.hash}`]);
      sub.unsubscribe();
    });

    it('a step that waited is fetched again from its last delivered block without delivering it twice', async () => {
      const index = await openIndex({ sectionSize: 16, confirmations: 60 });
      const a = makeChain(140, 7);
      const [n, m] = a.filter((h) => h.number >= 100 && h.number < 139 && passes(h)).map((h) => h.number);
      expect(m).toBeDefined();
      // The node misses block m for a while (but not n, delivered just before it in the same step).
      let node: readonly BlockHeader[] = a.map((h) =>
        h.number === m ? { ...h, hash: `0x${'ee'.repeat(32)}` as Hex } : h,
      );
      await run(index, a.slice(0, 139));
      const seen: Log[] = [];
      let failure: unknown;
      const sub = index
        .watch({ address }, { receipts: nodeReceipts(() => node) })
        .subscribe({ next: (l) => seen.push(l), error: (e) => (failure = e) });
      await settle(() => seen.some((l) => Number(l.blockNumber) === n));
      await pause(50);
      node = a;
      // The next head: the waiting step is fetched again, from block n.
      await run(index, a.slice(139));
      const expected = a.filter(passes).map((h) => `${h.number}:${h.hash}`);
      await settle(() => failure !== undefined || seen.length >= expected.length);
      expect(failure).toBeUndefined();
      expect(standing(seen)).toEqual(expected);
      sub.unsubscribe();
    });

    it('fails with BlockNotFoundError once three more heads came and the block is still missing', async () => {
      const index = await openIndex({ sectionSize: 16, confirmations: 40 });
      const a = makeChain(140, 7);
      const first = a.findIndex((h) => h.number >= 100 && passes(h));
      expect(first).toBeGreaterThan(0);
      // A node that lost block `first` (and never gets it back).
      const node = a.map((h) => (h.number === first ? { ...h, hash: `0x${'ee'.repeat(32)}` as Hex } : h));
      let failure: unknown;
      const sub = index
        .watch({ address }, { receipts: nodeReceipts(() => node) })
        .subscribe({ error: (e) => (failure = e) });
      await run(index, a.slice(0, first + 1));
      for (let head = first + 1; head <= first + 3; head++) {
        await pause(50);
        expect(failure).toBeUndefined();
        await run(index, a.slice(head, head + 1));
      }
      await settle(() => failure !== undefined);
      expect(failure).toBeInstanceOf(BlockNotFoundError);
      expect((failure as BlockNotFoundError).block).toBe(first);
      sub.unsubscribe();
    });
  });
});
