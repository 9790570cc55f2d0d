/**
 * Child process of crash.spec.ts: indexes an NDJSON header file into a classic-level dir and
 * prints one line per progress event (so the parent can SIGKILL it mid-run), then "done".
 * Usage: crash-child.ts <dbDir> <headers.ndjson> <sectionSize> <confirmations>
 */
import { ClassicLevel } from 'classic-level';
import { filter, lastValueFrom, tap } from 'rxjs';
import { BloomIndex } from '../../src/bloomIndex.js';
import { ndjsonHeaders } from '../../src/sources/ndjsonHeaders.js';

async function main(): Promise<void> {
  const [dir, file, sectionSize, confirmations] = process.argv.slice(2);
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir!, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  const index = await BloomIndex.open(db, {
    sectionSize: Number(sectionSize),
    confirmations: Number(confirmations),
  });
  process.stdout.write(`start ${index.nextBlock}\n`);
  const headers = ndjsonHeaders(file!);
  await lastValueFrom(
    index
      .indexHeaders((from: number) => headers.pipe(filter((h) => h.number >= from)))
      .pipe(tap((p) => process.stdout.write(`progress ${p.sections} ${p.headNumber}\n`))),
  );
  await db.close();
  process.stdout.write('done\n');
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exitCode = 1;
});
