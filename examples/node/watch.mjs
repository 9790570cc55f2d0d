// @ts-check
/**
 * History, then live: `index.watch()` answers from the index, then follows new heads as they get
 * indexed. With --rpc it follows a node (new heads by subscription or polling) until Ctrl-C;
 * without, it plays the sample chain's last 800 blocks as "new heads", one every 2 ms, onto a
 * fresh index of the blocks before them, and stops once it has every log of the demo filter.
 *
 *   node examples/node/watch.mjs --db DIR                                  (the sample; DIR is created)
 *   node examples/node/watch.mjs --db DIR --rpc URL [--address ADDR]       (a node; Ctrl-C stops)
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Level } from 'level';
import {
  BloomIndex,
  eventTopic,
  liveHeaders,
  ndjsonHeaders,
  ndjsonLogs,
  padAddress,
  rpcReceipts,
} from 'rx-bloombits/node';
import { concatMap, filter, lastValueFrom, map, take, takeWhile, tap, timer } from 'rxjs';

const { values } = parseArgs({
  options: { db: { type: 'string' }, rpc: { type: 'string' }, address: { type: 'string' } },
});
const TRANSFER = eventTopic('Transfer(address,address,uint256)');
const data = (/** @type {string} */ name) => fileURLToPath(new URL(`../data/${name}`, import.meta.url));

/** @type {Level<Uint8Array, Uint8Array>} */
const db = new Level(values.db ?? './watch-index', { keyEncoding: 'view', valueEncoding: 'view' });
const index = await BloomIndex.open(db);
const print = (/** @type {import('rx-bloombits').Log} */ log, /** @type {string} */ when) =>
  // A reorg retracts logs it replaced: they come again with `removed: true`.
  console.log(
    `${log.removed ? 'removed' : when} block ${Number(log.blockNumber)} #${Number(log.logIndex)} ${log.address}`,
  );

try {
  if (values.rpc !== undefined) {
    const url = values.rpc;
    const watching = index.watch(
      { address: /** @type {`0x${string}` | undefined} */ (values.address), topics: [TRANSFER] },
      { receipts: rpcReceipts(url), source: (from) => liveHeaders(url, { fromBlock: from }) },
    );
    const subscription = watching.subscribe({
      next: (log) => print(log, 'log'),
      error: (e) => console.error(e),
    });
    await new Promise((resolve) => process.once('SIGINT', resolve));
    subscription.unsubscribe(); // stops the watch and the indexing it started
  } else {
    const LIVE_FROM = 12_000;
    const headers = ndjsonHeaders(data('sample-headers.ndjson.gz'));
    // History: the sample up to block 11,999 (resumes if DIR already holds part of it).
    await lastValueFrom(
      index.indexHeaders((from) =>
        headers.pipe(
          filter((h) => h.number >= from),
          takeWhile((h) => h.number < LIVE_FROM),
        ),
      ),
      { defaultValue: undefined },
    );
    console.log(`index holds blocks 0..${index.head}; watching BLM Transfers to alice`);
    // Live: the next blocks arrive one by one, as a node would announce them.
    const newHeads = (/** @type {number} */ from) =>
      headers.pipe(
        filter((h) => h.number >= from),
        concatMap((h) => timer(2).pipe(map(() => h))),
      );
    const demo = {
      address: /** @type {const} */ ('0xa2a4809318fbe04298146c9842a593a9efac7f74'),
      topics: [TRANSFER, null, padAddress('0x172cd000e3da80ca2119dbf791ae1ec1fe76be19')],
    };
    let live = 0;
    const logs = index
      .watch(demo, { receipts: ndjsonLogs(data('sample-logs.ndjson.gz')), source: newHeads, fromBlock: 0 })
      // watch never completes by itself: the demo filter has 42 logs on the sample, then we stop.
      .pipe(take(42));
    await lastValueFrom(
      logs.pipe(
        tap((log) => {
          const isLive = Number(log.blockNumber) >= LIVE_FROM;
          if (isLive) live++;
          print(log, isLive ? 'live' : 'history');
        }),
      ),
    );
    console.log(
      `42 logs: ${42 - live} from history, ${live} live; the index now ends at block ${index.head}`,
    );
  }
} finally {
  await db.close();
}
