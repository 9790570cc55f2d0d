/**
 * How a section reaches the db: abstract-level's chained batch when the db's default encodings
 * are binary (its array form clones every op, most of a section's write time), the array form
 * with explicit view encodings otherwise. Either way the stored bytes are the same.
 */
import { MemoryLevel } from 'memory-level';
import { BloomBitsStore } from '../../src/store/index.js';
import { writeBatch } from '../../src/store/writeBatch.js';
import { dump, headOf, type LevelDb, randomSection, rejection, VIEW } from './fixtures.js';

const SIZE = 64;

/** Calls of `db.batch`, by form: with an operations array, or chained (no arguments). */
function countBatches(db: LevelDb): { array: number; chained: number } {
  const calls = { array: 0, chained: 0 };
  const batch = db.batch.bind(db) as (...args: unknown[]) => unknown;
  (db as unknown as { batch: unknown }).batch = (...args: unknown[]) => {
    if (args.length === 0) calls.chained++;
    else calls.array++;
    return batch(...args);
  };
  return calls;
}

async function writeTwoSections(db: LevelDb): Promise<void> {
  const store = await BloomBitsStore.open(db, { sectionSize: SIZE });
  for (let s = 0; s < 2; s++) await store.writeSection(s, headOf(s), randomSection(s, SIZE));
}

describe('writing a section', () => {
  it('uses the chained batch on a db whose default encodings are view or buffer', async () => {
    for (const encoding of ['view', 'buffer'] as const) {
      const db = new MemoryLevel({ keyEncoding: encoding, valueEncoding: encoding });
      const calls = countBatches(db);
      await writeTwoSections(db);
      expect(calls).toEqual({ array: 0, chained: 2 });
    }
  });

  it('stores the same bytes whatever the default encodings (array form with view encodings for utf8/json)', async () => {
    const reference = new MemoryLevel(VIEW);
    await writeTwoSections(reference);
    const expected = await dump(reference);
    expect(expected.length).toBeGreaterThan(4096);
    for (const options of [
      { keyEncoding: 'buffer', valueEncoding: 'buffer' },
      { keyEncoding: 'utf8', valueEncoding: 'utf8' },
      { keyEncoding: 'view', valueEncoding: 'json' },
      {},
    ] as const) {
      const db = new MemoryLevel(options);
      const calls = countBatches(db);
      await writeTwoSections(db);
      expect(await dump(db)).toEqual(expected);
      const binary = ['view', 'buffer'];
      const chained =
        binary.includes(options.keyEncoding ?? '') && binary.includes(options.valueEncoding ?? '');
      expect(calls).toEqual(chained ? { array: 0, chained: 2 } : { array: 2, chained: 0 });
    }
  });

  it('writes puts and dels in one batch; a put that throws closes the batch, writing nothing', async () => {
    const db = new MemoryLevel(VIEW);
    const key = (n: number) => Uint8Array.of(1, n);
    await db.put(key(9), Uint8Array.of(9), VIEW);
    await writeBatch(db, [
      { type: 'put', key: key(1), value: Uint8Array.of(1) },
      { type: 'del', key: key(9) },
    ]);
    expect(await dump(db)).toEqual(['0101=01']);

    const closed: boolean[] = [];
    const real = db.batch.bind(db) as () => { close(): Promise<void> };
    (db as unknown as { batch: unknown }).batch = () => {
      const b = real();
      const close = b.close.bind(b);
      b.close = () => {
        closed.push(true);
        return close();
      };
      return b;
    };
    const ops = [
      { type: 'put', key: key(2), value: Uint8Array.of(2) },
      { type: 'put', key: key(3), value: null as never },
    ] as const;
    expect(await rejection(writeBatch(db, ops))).toBeInstanceOf(Error);
    expect(closed).toEqual([true]);
    expect(await dump(db)).toEqual(['0101=01']);
  });
});
