/**
 * Headers keep being accepted while a section's write is in flight (they used to queue up, and a
 * source faster than the db kept them all in memory); anything else waits for the write.
 */
import { Subject } from 'rxjs';
import { BloomIndex } from '../../src/bloomIndex.js';
import { ChainError } from '../../src/errors.js';
import type { BlockHeader } from '../../src/types/chain.js';
import { cheapChain, dumpDb, memoryDbs, run, withField } from './helpers.js';

const newDb = memoryDbs();
const OPTS = { sectionSize: 64, confirmations: 8 };

/** Holds the write of every section (chained batch) until `release`; `started` counts writes begun. */
function gateSectionWrites(db: ReturnType<typeof newDb>) {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const state = { started: 0, release };
  const real = db.batch.bind(db) as (...args: unknown[]) => { write(): Promise<void> };
  (db as unknown as { batch: unknown }).batch = (...args: unknown[]) => {
    const batch = real(...args);
    if (args.length === 0) {
      const write = batch.write.bind(batch);
      batch.write = async () => {
        state.started++;
        await gate;
        return write();
      };
    }
    return batch;
  };
  return state;
}

/** Waits (a few seconds at most) until the first section write has begun. */
async function writeBegun(gate: { started: number }): Promise<void> {
  for (let i = 0; i < 500 && gate.started === 0; i++) await new Promise((r) => setTimeout(r, 5));
  expect(gate.started).toBe(1);
}

/** The db after indexing `headers` with no write held up. */
async function reference(headers: readonly BlockHeader[]) {
  const db = newDb();
  await run(await BloomIndex.open(db, OPTS), headers as BlockHeader[]);
  return dumpDb(db);
}

describe('accepting headers during a commit', () => {
  it('headers extending the head are accepted while the section is written; the db ends up the same', async () => {
    const chain = cheapChain(120);
    const db = newDb();
    const gate = gateSectionWrites(db);
    const index = await BloomIndex.open(db, OPTS);
    const source = new Subject<BlockHeader>();
    const done = run(index, source);
    for (const h of chain.slice(0, 72)) source.next(h); // block 71 makes section 0 due
    await writeBegun(gate);
    for (const h of chain.slice(72, 100)) source.next(h);
    expect(index.info()).toMatchObject({ sections: 0, head: 99 });
    gate.release();
    for (const h of chain.slice(100)) source.next(h);
    source.complete();
    await done;
    expect(index.info()).toMatchObject({ sections: 1, head: 119 });
    expect(await dumpDb(db)).toEqual(await reference(chain));
  });

  it('the next section falling due during a write is committed right after it', async () => {
    const chain = cheapChain(150); // sections 0 and 1 fall due at blocks 71 and 135
    const db = newDb();
    const gate = gateSectionWrites(db);
    const index = await BloomIndex.open(db, OPTS);
    const source = new Subject<BlockHeader>();
    const done = run(index, source);
    for (const h of chain.slice(0, 72)) source.next(h);
    await writeBegun(gate);
    for (const h of chain.slice(72)) source.next(h);
    source.complete();
    expect(index.info()).toMatchObject({ sections: 0, head: 149 });
    gate.release();
    await done;
    expect(index.info()).toMatchObject({ sections: 2, head: 149 });
    expect(gate.started).toBe(2);
    expect(await dumpDb(db)).toEqual(await reference(chain));
  });

  it('a header that does not extend the head waits for the write, then fails as it would have', async () => {
    const chain = cheapChain(80);
    const db = newDb();
    const gate = gateSectionWrites(db);
    const index = await BloomIndex.open(db, OPTS);
    const source = new Subject<BlockHeader>();
    const done = run(index, source).then(
      () => undefined,
      (e: unknown) => e,
    );
    for (const h of chain.slice(0, 72)) source.next(h);
    await writeBegun(gate);
    source.next(chain[72]!);
    source.next(withField(chain[73]!, { parentHash: chain[0]!.hash })); // not block 72's child
    source.next(chain[74]!);
    expect(index.info()).toMatchObject({ sections: 0, head: 72 });
    gate.release();
    const error = await done;
    expect(error).toBeInstanceOf(ChainError);
    expect((error as Error).message).toMatch(/block 73 does not build on block 72/);
    // The section was committed and the tail up to block 72 kept (flushed when the run failed).
    expect(index.info()).toMatchObject({ sections: 1, head: 72 });
  });
});
