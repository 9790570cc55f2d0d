// @ts-check
/**
 * Query an index built by index-file.mjs: candidate blocks as they stream, then the exact logs
 * (receipts from the sample's log file), and the false positives the exact filter removed.
 *
 *   node examples/node/query.mjs [--db DIR]    (after index-file.mjs)
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Level } from 'level';
import { BloomIndex, eventTopic, ndjsonLogs, padAddress } from 'rx-bloombits/node';
import { lastValueFrom, tap, toArray } from 'rxjs';

const { values } = parseArgs({ options: { db: { type: 'string' } } });
const logsFile = fileURLToPath(new URL('../data/sample-logs.ndjson.gz', import.meta.url));

// BLM Transfer events to alice: the sample's demo filter.
/** @type {import('rx-bloombits').LogFilter} */
const filter = {
  address: '0xa2a4809318fbe04298146c9842a593a9efac7f74',
  topics: [
    eventTopic('Transfer(address,address,uint256)'),
    null,
    padAddress('0x172cd000e3da80ca2119dbf791ae1ec1fe76be19'),
  ],
};
const range = { fromBlock: 0, toBlock: /** @type {const} */ ('latest') };

/** @type {Level<Uint8Array, Uint8Array>} */
const db = new Level(values.db ?? './chain-index', { keyEncoding: 'view', valueEncoding: 'view' });
const index = await BloomIndex.open(db, { readOnly: true });
try {
  const blocks = await lastValueFrom(
    index.match(filter, range).pipe(
      tap((n) => process.stdout.write(`${n} `)),
      toArray(),
    ),
  );
  console.log(`\n${blocks.length} candidate blocks`);
  const logs = await lastValueFrom(
    index.logs(filter, range, { receipts: ndjsonLogs(logsFile) }).pipe(toArray()),
  );
  for (const log of logs.slice(0, 3))
    console.log(`block ${Number(log.blockNumber)} #${Number(log.logIndex)} ${log.transactionHash}`);
  const withLogs = new Set(logs.map((l) => l.blockNumber)).size;
  console.log(
    `${logs.length} logs in ${withLogs} blocks (${blocks.length - withLogs} false-positive blocks removed)`,
  );
} finally {
  await db.close();
}
