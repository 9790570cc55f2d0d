// @ts-check
/**
 * Index a file of headers into a LevelDB directory, with progress; run it again and it resumes.
 *
 *   node examples/node/index-file.mjs [--db DIR] [HEADERS.ndjson.gz]    (after `npm run build`)
 *
 * Defaults: the bundled sample chain into ./chain-index.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Level } from 'level';
import { BloomIndex, ndjsonHeaders } from 'rx-bloombits/node';
import { filter, lastValueFrom, tap } from 'rxjs';

const { values, positionals } = parseArgs({ options: { db: { type: 'string' } }, allowPositionals: true });
const file = positionals[0] ?? fileURLToPath(new URL('../data/sample-headers.ndjson.gz', import.meta.url));

/** @type {Level<Uint8Array, Uint8Array>} */
const db = new Level(values.db ?? './chain-index', { keyEncoding: 'view', valueEncoding: 'view' });
const index = await BloomIndex.open(db);
try {
  const t0 = performance.now();
  // The factory form resumes: it is asked for the headers from the index's next block on.
  const headers = (/** @type {number} */ from) => ndjsonHeaders(file).pipe(filter((h) => h.number >= from));
  const last = await lastValueFrom(
    index
      .indexHeaders(headers)
      .pipe(tap((p) => console.log(`block ${p.headNumber}, ${p.sections} sections`))),
    { defaultValue: undefined },
  );
  const info = index.info();
  console.log(
    `indexed blocks 0..${info.head}: ${info.sections} sections committed, ${info.tailLength} in the tail ` +
      `(${last?.blocks ?? 0} new headers, ${Math.round(performance.now() - t0)} ms)`,
  );
} finally {
  await db.close();
}
