import { MemoryLevel } from 'memory-level';
import { from, lastValueFrom, of, Subject, takeUntil, toArray } from 'rxjs';
import { bloomTest } from '../../src/bloom/index.js';
import { BloomIndex } from '../../src/bloomIndex.js';
import type { Hex, Log } from '../../src/index.js';
import { hexToBytes } from '../../src/types/hex.js';
import { ADDRESSES, makeChain } from './helpers.js';

const address = ADDRESSES[0]!;

/** One log of `address` per block: the exact filter then keeps exactly the blocks whose bloom passes. */
const receipts = ({ number }: { number: number }) =>
  of<Log[]>([
    {
      address,
      topics: [],
      data: '0x',
      blockNumber: `0x${number.toString(16)}` as Hex,
      blockHash: `0x${'00'.repeat(32)}`,
      transactionHash: `0x${'00'.repeat(32)}`,
      transactionIndex: '0x0',
      logIndex: '0x0',
      removed: false,
    },
  ]);

describe('BloomIndex.watch', () => {
  let db: MemoryLevel<Uint8Array, Uint8Array>;
  beforeEach(() => {
    db = new MemoryLevel({ keyEncoding: 'view', valueEncoding: 'view' });
  });
  afterEach(() => db.close());

  it.each([
    [0, 'history and live'],
    [60, 'a start inside the history'],
    [150, 'a start past the head: live only, from that block on'],
  ])('fromBlock %i (%s) yields exactly the passing blocks from there on', async (fromBlock) => {
    const chain = makeChain(200, 7);
    const index = await BloomIndex.open(db, { sectionSize: 32, confirmations: 8 });
    await lastValueFrom(index.indexHeaders(from(chain.slice(0, 100))), { defaultValue: undefined });

    const stop = new Subject<void>();
    const seen = lastValueFrom(
      index.watch({ address }, { receipts, fromBlock }).pipe(takeUntil(stop), toArray()),
    );
    await lastValueFrom(index.indexHeaders(from(chain.slice(100))), { defaultValue: undefined });
    await new Promise((r) => setTimeout(r, 20));
    stop.next();

    const expected = chain
      .filter((h) => h.number >= fromBlock && bloomTest(hexToBytes(h.logsBloom), hexToBytes(address)))
      .map((h) => h.number);
    expect(expected.length).toBeGreaterThan(2);
    expect((await seen).map((l) => Number(l.blockNumber))).toEqual(expected);
  });
});
