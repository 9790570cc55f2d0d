import fc from 'fast-check';
import { BloomBitsError } from '../../src/errors.js';
import {
  BloomBitsStore,
  CHECKSUM_FROM_KEY,
  COUNT_KEY,
  encodeUint64,
  SECTION_SIZE_KEY,
  sectionChecksumKey,
  sectionHeadKey,
  vectorKey,
  verifyStore,
} from '../../src/store/index.js';
import { buildStore, dump, headOf, type LevelDb, memoryDb, VIEW } from './fixtures.js';

/** A tail entry key "iT" ‖ uint64 BE block. */
const tailKey = (n: number) => Uint8Array.from([0x69, 0x54, ...encodeUint64(n)]);
const TAIL = 4;

/** Where a corruption strikes and what it does; `pick` chooses among candidates, `at`/`bitAt` inside a value. */
interface Fault {
  target: 'vector' | 'count' | 'head' | 'checksum' | 'cfrom' | 'ssize' | 'tail';
  action: 'delete' | 'empty' | 'flip' | 'set';
  pick: number;
  at: number;
  bitAt: number;
  number: number;
}

const faultArb: fc.Arbitrary<Fault> = fc.record({
  target: fc.constantFrom('vector', 'count', 'head', 'checksum', 'cfrom', 'ssize', 'tail'),
  action: fc.constantFrom('delete', 'empty', 'flip', 'set'),
  pick: fc.nat(),
  at: fc.nat(),
  bitAt: fc.nat(7),
  number: fc.oneof(fc.nat(600), fc.constant(2 ** 53 - 1)),
});

/** Applies `fault` to the store's bytes (a tail entry is never the last one: dropping it leaves a valid shorter tail). */
async function corrupt(
  db: LevelDb,
  fault: Fault,
  size: number,
  sections: number,
): Promise<() => Promise<void>> {
  const section = fault.pick % sections;
  const key = (() => {
    switch (fault.target) {
      case 'vector':
        return vectorKey(fault.pick % 2048, section, headOf(1000 + section));
      case 'count':
        return COUNT_KEY;
      case 'head':
        return sectionHeadKey(section);
      case 'checksum':
        return sectionChecksumKey(section);
      case 'cfrom':
        return CHECKSUM_FROM_KEY;
      case 'ssize':
        return SECTION_SIZE_KEY;
      case 'tail':
        return tailKey(sections * size + (fault.pick % (TAIL - 1)));
    }
  })();
  const value = (await db.get(key, VIEW)) as Uint8Array | undefined;
  if (value === undefined) throw new Error('the fault targets a stored key');
  const original = Uint8Array.from(value);
  await damage(db, key, original, fault);
  return () => db.put(key, original, VIEW);
}

/** Deletes, empties, flips a bit of or overwrites the value of `key`. */
async function damage(db: LevelDb, key: Uint8Array, value: Uint8Array, fault: Fault): Promise<void> {
  switch (fault.action) {
    case 'delete':
      return db.del(key, VIEW);
    case 'empty':
      return db.put(key, new Uint8Array(0), VIEW);
    case 'flip': {
      // Tail entries carry no checksum: only their length and continuity are checked.
      if (fault.target === 'tail') return db.put(key, value.subarray(1), VIEW);
      if (value.length === 0) return db.put(key, Uint8Array.of(1 << fault.bitAt), VIEW);
      const flipped = Uint8Array.from(value);
      flipped[fault.at % value.length]! ^= 1 << fault.bitAt;
      return db.put(key, flipped, VIEW);
    }
    case 'set':
      return db.put(key, encodeUint64(fault.number), VIEW);
  }
}

/** A sound store by (size, sections), with a tail of {@link TAIL} entries: built once, corrupted and repaired per run. */
interface Built {
  db: LevelDb;
  pristine: string[];
}
const cache = new Map<string, Promise<Built>>();
function built(size: number, sections: number): Promise<Built> {
  const id = `${size}/${sections}`;
  let got = cache.get(id);
  if (got === undefined) {
    got = (async () => {
      const db = memoryDb();
      await buildStore(db, size, sections, 1);
      for (let n = 0; n < TAIL; n++)
        await db.put(tailKey(sections * size + n), new Uint8Array(288).fill(n + 1), VIEW);
      return { db, pristine: await dump(db) };
    })();
    cache.set(id, got);
  }
  return got;
}

afterAll(async () => {
  for (const got of cache.values()) await (await got).db.close();
});

describe('fault injection', () => {
  test('every corruption fails open with a typed error or is reported by verify; neither writes', async () => {
    let changed = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(64, 128, 256),
        fc.integer({ min: 1, max: 3 }),
        faultArb,
        async (size, sections, fault) => {
          const { db, pristine } = await built(size, sections);
          const repair = await corrupt(db, fault, size, sections);
          try {
            const before = await dump(db);
            if (before.join() === pristine.join()) return; // the fault rewrote the same bytes
            changed++;
            let problems: number;
            try {
              const store = await BloomBitsStore.open(db, { readOnly: true });
              problems = (await store.verify()).problems.length;
            } catch (err) {
              if (!(err instanceof BloomBitsError)) throw err;
              // Open refused: verifying the db reports the same fault instead of throwing.
              problems = (await verifyStore(db)).problems.length;
            }
            expect(await dump(db)).toEqual(before);
            if (problems === 0) throw new Error(`undetected: ${JSON.stringify({ size, sections, fault })}`);
          } finally {
            await repair();
          }
        },
      ),
      { numRuns: 100, seed: 20251125 },
    );
    expect(changed).toBeGreaterThan(60);
    for (const got of cache.values()) {
      const { db, pristine } = await got;
      expect(await dump(db)).toEqual(pristine); // every repair restored the store
    }
  });
});
