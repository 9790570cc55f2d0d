/**
 * When the tail is written: while headers keep coming it is not (most of it is committed, and its
 * entries deleted, soon); once the source pauses with 1024 or more unwritten blocks, it is.
 */
import { from, Subject } from 'rxjs';
import { BloomIndex } from '../../src/bloomIndex.js';
import type { BlockHeader } from '../../src/types/chain.js';
import { cheapChain, memoryDbs, run } from './helpers.js';

const newDb = memoryDbs();
const TAIL_PREFIX = [0x69, 0x54]; // "iT"

/** Tail puts per batch written to `db` (batches without tail entries are left out). */
function countTailPuts(db: ReturnType<typeof newDb>): number[] {
  const seen: number[] = [];
  const batch = db.batch.bind(db) as (ops: unknown[], o?: unknown) => Promise<void>;
  (db as unknown as { batch: unknown }).batch = (ops: { type: string; key: Uint8Array }[], o?: unknown) => {
    const puts = ops.filter(
      (op) => op.type === 'put' && op.key[0] === TAIL_PREFIX[0] && op.key[1] === TAIL_PREFIX[1],
    );
    if (puts.length > 0) seen.push(puts.length);
    return batch(ops, o);
  };
  return seen;
}

describe('writing the tail', () => {
  it('a source that never pauses: the tail is written once, at the end (not every 1024 headers)', async () => {
    const db = newDb();
    const tailPuts = countTailPuts(db);
    const index = await BloomIndex.open(db);
    await run(index, from(cheapChain(3000)));
    expect(tailPuts).toEqual([3000]);
  });

  it('a source that pauses with 1024+ unwritten blocks: the tail is written during the pause', async () => {
    const db = newDb();
    const tailPuts = countTailPuts(db);
    const index = await BloomIndex.open(db);
    const chain = cheapChain(1500);
    const source = new Subject<BlockHeader>();
    const done = run(index, source);
    for (const h of chain.slice(0, 1100)) source.next(h);
    // no header comes until the tail is written (the test times out if it never is)
    while (tailPuts.length === 0) await new Promise((r) => setTimeout(r, 20));
    expect(tailPuts).toEqual([1100]);
    for (const h of chain.slice(1100)) source.next(h);
    source.complete();
    await done;
    expect(tailPuts).toEqual([1100, 400]);
    expect(index.info()).toMatchObject({ head: 1499, tailLength: 1500 });
  });

  it('a pause with fewer than 1024 unwritten blocks writes nothing until the end', async () => {
    const db = newDb();
    const tailPuts = countTailPuts(db);
    const index = await BloomIndex.open(db);
    const chain = cheapChain(600);
    const source = new Subject<BlockHeader>();
    const done = run(index, source);
    for (const h of chain.slice(0, 500)) source.next(h);
    await new Promise((r) => setTimeout(r, 600)); // longer than the pause that triggers a write
    expect(tailPuts).toEqual([]);
    for (const h of chain.slice(500)) source.next(h);
    source.complete();
    await done;
    expect(tailPuts).toEqual([600]);
  });
});
