/**
 * The README's library example as a program that typechecks (and runs against a node):
 *   npx ts-node --transpile-only examples/quickstart.ts http://127.0.0.1:8545 ./chain-index
 */
import { Level } from 'level';
import { lastValueFrom, take, toArray } from 'rxjs';
import { BloomIndex, type Hex, type LogFilter, rpcHeaders, rpcReceipts } from '../src/index.js';

const url = process.argv[2] ?? 'http://127.0.0.1:8545';
const TRANSFER: Hex = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef';
const padAddress = (address: Hex): Hex => `0x${address.slice(2).padStart(64, '0')}`;

async function main(): Promise<void> {
  const db = new Level<Uint8Array, Uint8Array>(process.argv[3] ?? './chain-index', {
    keyEncoding: 'view',
    valueEncoding: 'view',
  });
  const index = await BloomIndex.open(db); // you own the db; the index never closes it
  try {
    await lastValueFrom(
      index.indexHeaders((from) => rpcHeaders(url, { fromBlock: from })),
      { defaultValue: undefined },
    );
    const me: Hex = '0x172cd000e3da80ca2119dbf791ae1ec1fe76be19';
    const filter: LogFilter = { topics: [TRANSFER, null, padAddress(me)] };
    const blocks = await lastValueFrom(
      index.match(filter, { fromBlock: 0, toBlock: 'latest' }).pipe(toArray()),
    );
    console.log('candidate blocks', blocks);
    const logs = await lastValueFrom(
      index
        .logs(filter, { fromBlock: 0, toBlock: 'latest' }, { receipts: rpcReceipts(url) })
        .pipe(take(10), toArray()),
    );
    console.log('first logs', logs);
  } finally {
    await db.close();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
