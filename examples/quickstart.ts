/**
 * The README's library example against a JSON-RPC node instead of the bundled sample files:
 *   npx ts-node --transpile-only examples/quickstart.ts http://127.0.0.1:8545 ./chain-index
 */
import { Level } from 'level';
import { lastValueFrom, take, toArray } from 'rxjs';
import {
  BloomIndex,
  eventTopic,
  type Hex,
  type LogFilter,
  padAddress,
  rpcHeaders,
  rpcReceipts,
} from '../src/index.js';

const url = process.argv[2] ?? 'http://127.0.0.1:8545';
const TRANSFER = eventTopic('Transfer(address,address,uint256)');

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
