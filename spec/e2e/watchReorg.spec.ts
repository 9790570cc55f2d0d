import { MemoryLevel } from 'memory-level';
import type { Subscription } from 'rxjs';
import { BloomIndex } from '../../src/bloomIndex.js';
import { liveHeaders, rpcReceipts } from '../../src/sources/index.js';
import type { Log } from '../../src/types/chain.js';
import type { Hex } from '../../src/types/hex.js';
import { type Chain, padAddress, startChain } from '../helpers/ganache.js';
import { standingLogs } from '../helpers/retractions.js';

/*
 * watch across a real reorg: ganache reverts to a snapshot and mines other blocks at the same
 * heights. Its own eth_getLogs over the final chain is the judge: retracting the watch's
 * `removed: true` logs must leave exactly that answer.
 */

jest.setTimeout(60_000);

let chain: Chain;
let db: MemoryLevel<Uint8Array, Uint8Array>;
let sub: Subscription | undefined;
afterEach(async () => {
  sub?.unsubscribe();
  await db?.close();
  await chain?.close();
});

const id = (l: Log) => `${Number(l.blockNumber)}:${l.blockHash.toLowerCase()}:${Number(l.logIndex)}`;

const standing = (seen: readonly Log[]) => standingLogs(seen, id);

async function until(what: string, done: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await done()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

it.each([
  ['over HTTP, polling', false],
  ["on the provider, eth_subscribe('newHeads')", true],
])(
  'a reorg on the node (%s): the replaced blocks’ logs are retracted, the new ones delivered, as eth_getLogs says',
  async (_how, onProvider) => {
    chain = await startChain();
    const emitter = await chain.deploy();
    const topic = padAddress(chain.accounts[2]!);
    const other = padAddress(chain.accounts[3]!);
    await chain.emit(emitter, [{ topics: [topic], data: '0x01' }]);
    await chain.mine(2);
    const fork = await chain.blockNumber();
    const snap = await chain.snapshot();
    // The branch the node will drop: matching logs in two blocks, one non-matching.
    await chain.emit(emitter, [{ topics: [topic], data: '0x02' }]);
    await chain.emit(emitter, [{ topics: [other] }, { topics: [topic], data: '0x03' }]);
    await chain.mine(1);

    db = new MemoryLevel({ keyEncoding: 'view', valueEncoding: 'view' });
    const index = await BloomIndex.open(db, { sectionSize: 16, confirmations: 8 });
    const filter = { address: emitter, topics: [topic] as Hex[] };
    const seen: Log[] = [];
    let failure: unknown;
    sub = index
      .watch(filter, {
        receipts: rpcReceipts(chain.url),
        source: (from) =>
          onProvider
            ? liveHeaders(chain.provider, { fromBlock: from, pollIntervalMs: 60_000 })
            : liveHeaders(chain.url, { fromBlock: from, pollIntervalMs: 20 }),
      })
      .subscribe({ next: (l) => seen.push(l), error: (e) => (failure = e) });
    const logsOf = () => chain.getLogs({ ...filter, fromBlock: '0x0', toBlock: 'latest' });
    const before = (await logsOf()).map(id);
    expect(before).toHaveLength(3);
    await until('the first branch', () => failure !== undefined || standing(seen).join() === before.join());
    expect(failure).toBeUndefined();

    // The reorg: back to `fork`, then a longer branch with other logs.
    await chain.revert(snap);
    await chain.emit(emitter, [{ topics: [other] }]);
    await chain.emit(emitter, [
      { topics: [topic], data: '0x04' },
      { topics: [topic], data: '0x05' },
    ]);
    await chain.mine(3);
    const after = (await logsOf()).map(id);
    expect(after).toHaveLength(3);
    expect(after.filter((l) => Number(l.split(':')[0]) > fork)).toHaveLength(2);
    await until('the new branch', () => failure !== undefined || standing(seen).join() === after.join());
    expect(failure).toBeUndefined();
    // Both logs of the dropped branch were retracted, oldest first.
    expect(seen.filter((l) => l.removed).map(id)).toEqual(
      before.filter((l) => Number(l.split(':')[0]) > fork),
    );
  },
);
