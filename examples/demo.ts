/**
 * The main job on the bundled sample chain: index `examples/data/sample-headers.ndjson.gz`
 * into an embedded LevelDB directory, then stream the demo filter's candidate blocks and
 * its exact logs (from `sample-logs.ndjson.gz`).
 *
 *   npm start                    # index into ./index-data, then query
 *   npm start -- --db DIR        # another directory
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Level } from 'level';
import { lastValueFrom, tap, toArray } from 'rxjs';
import { BloomIndex, type LogFilter, ndjsonHeaders, ndjsonLogs } from '../src/node.js';

const dataDir = join(__dirname, 'data');
const dbDir = process.argv.includes('--db') ? process.argv[process.argv.indexOf('--db') + 1]! : 'index-data';

async function main(): Promise<void> {
  const meta = JSON.parse(readFileSync(join(dataDir, 'sample-meta.json'), 'utf8'));
  const db = new Level<Uint8Array, Uint8Array>(dbDir, { keyEncoding: 'view', valueEncoding: 'view' });
  const index = await BloomIndex.open(db);
  try {
    console.log(`indexing ${meta.blocks} sample blocks into ${dbDir} ...`);
    const t0 = performance.now();
    await lastValueFrom(
      index
        .indexHeaders(ndjsonHeaders(join(dataDir, 'sample-headers.ndjson.gz')))
        .pipe(
          tap((p) =>
            console.log(
              `  block ${p.headNumber}, ${p.sections} sections, ${Math.round(p.blocksPerSecond)} blocks/s`,
            ),
          ),
        ),
      { defaultValue: undefined },
    );
    const info = index.info();
    console.log(
      `index: ${info.sections} sections committed (blocks 0..${info.indexedHead}), ${info.tailLength} blocks in the tail ` +
        `(${Math.round(performance.now() - t0)} ms)`,
    );

    const { fromBlock, toBlock, ...filter } = meta.demoFilter as LogFilter & {
      fromBlock: `0x${string}`;
      toBlock: `0x${string}`;
    };
    console.log(`\nquery: ${JSON.stringify(filter)}`);
    const t1 = performance.now();
    const blocks = await lastValueFrom(
      index.match(filter, { fromBlock, toBlock }).pipe(
        tap((n) => console.log(`  candidate block ${n}`)),
        toArray(),
      ),
    );
    console.log(`${blocks.length} candidate blocks in ${Math.round(performance.now() - t1)} ms`);

    const logs = await lastValueFrom(
      index
        .logs(
          filter,
          { fromBlock, toBlock },
          { receipts: ndjsonLogs(join(dataDir, 'sample-logs.ndjson.gz')) },
        )
        .pipe(
          tap((log) =>
            console.log(
              `  log: block ${Number(log.blockNumber)} #${Number(log.logIndex)} ${log.address} to ${log.topics[2]}`,
            ),
          ),
          toArray(),
        ),
    );
    console.log(
      `${logs.length} exact logs (${blocks.length - new Set(logs.map((l) => l.blockNumber)).size} false-positive blocks removed)`,
    );
  } finally {
    await db.close();
  }
}

main().catch((e) => {
  console.error(`demo failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
