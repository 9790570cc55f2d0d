import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { decompressBytes } from '../../src/bitutil/index.js';
import { CorruptDataError, DatabaseClosedError, MissingSectionError, StoreError } from '../../src/errors.js';
import {
  BloomBitsStore,
  COUNT_KEY,
  encodeUint64,
  SECTION_SIZE_KEY,
  sectionChecksumKey,
  sectionHeadKey,
  vectorKey,
  verifyStore,
} from '../../src/store/index.js';
import { prng } from '../helpers/prng.js';
import {
  buildStore,
  dump,
  headOf,
  type LevelDb,
  memoryDb,
  randomSection,
  rejection,
  toGethFormat,
  VIEW,
} from './fixtures.js';

const SIZE = 64;
const opened: LevelDb[] = [];
const db = (): LevelDb => {
  const d = memoryDb();
  opened.push(d);
  return d;
};
afterEach(async () => {
  for (const d of opened.splice(0)) if (d.status !== 'closed') await d.close();
});

/** A tail entry key "iT" ‖ uint64 BE block. */
const tailKey = (n: number) => Uint8Array.from([0x69, 0x54, ...encodeUint64(n)]);

describe('opening never writes', () => {
  test('an empty db stays empty, and the size is recorded with the first section', async () => {
    const d = db();
    const store = await BloomBitsStore.open(d, { sectionSize: SIZE });
    expect(await dump(d)).toEqual([]);
    await BloomBitsStore.open(d, { sectionSize: 128 }); // nothing recorded yet: any size opens
    expect(await dump(d)).toEqual([]);
    await store.writeSection(0, headOf(0), randomSection(1, SIZE));
    expect(await d.get(SECTION_SIZE_KEY, VIEW)).toEqual(encodeUint64(SIZE));
  });

  test('a go-ethereum db opens unchanged, its section size detected from the vectors', async () => {
    for (const size of [64, 4096]) {
      const d = db();
      await buildStore(d, size, 2, 7);
      await toGethFormat(d);
      const before = await dump(d);
      const store = await BloomBitsStore.open(d);
      expect(store.sectionSize).toBe(size);
      expect(await dump(d)).toEqual(before);
      const want = randomSection(7001, size);
      expect(await store.readVectors(100, [1])).toEqual([want[100]]);
    }
  });

  test('a requested size the stored vectors contradict is a StoreError that writes nothing', async () => {
    const d = db();
    await buildStore(d, SIZE, 2);
    await toGethFormat(d);
    const before = await dump(d);
    expect(await rejection(BloomBitsStore.open(d, { sectionSize: 4096 }))).toBeInstanceOf(StoreError);
    expect((await BloomBitsStore.open(d, { sectionSize: SIZE })).sectionSize).toBe(SIZE);
    expect(await dump(d)).toEqual(before);
  });

  test('a read-only store refuses every mutation', async () => {
    const d = db();
    await buildStore(d, SIZE, 1);
    const before = await dump(d);
    const store = await BloomBitsStore.open(d, { readOnly: true });
    expect(await rejection(store.writeSection(1, headOf(1), randomSection(2, SIZE)))).toBeInstanceOf(
      StoreError,
    );
    expect(await rejection(store.rollbackTo(0))).toBeInstanceOf(StoreError);
    expect(await rejection(store.sweep())).toBeInstanceOf(StoreError);
    expect(await dump(d)).toEqual(before);
  });
});

describe('metadata is checked, not trusted', () => {
  const cases: [string, string, (d: LevelDb) => Promise<void>][] = [
    ['count raised by one', 'iBcount', (d) => d.put(COUNT_KEY, encodeUint64(4), VIEW)],
    ['count at 2^53-1', 'iBcount', (d) => d.put(COUNT_KEY, encodeUint64(2 ** 53 - 1), VIEW)],
    [
      'count above 2^53-1',
      'iBcount',
      (d) => d.put(COUNT_KEY, Uint8Array.of(0, 0x20, 0, 0, 0, 0, 0, 0), VIEW),
    ],
    ['count lowered', 'iBcount', (d) => d.put(COUNT_KEY, encodeUint64(2), VIEW)],
    ['count deleted', 'iBcount', (d) => d.del(COUNT_KEY, VIEW)],
    ['a middle head deleted', 'iBshead/1', (d) => d.del(sectionHeadKey(1), VIEW)],
    ['a head truncated', 'iBshead/2', (d) => d.put(sectionHeadKey(2), new Uint8Array(31), VIEW)],
    ['ssize not a multiple of 8', 'iBssize', (d) => d.put(SECTION_SIZE_KEY, encodeUint64(12), VIEW)],
    ['ssize absurdly large', 'iBssize', (d) => d.put(SECTION_SIZE_KEY, encodeUint64(2 ** 45), VIEW)],
    ['ssize contradicting the vectors', 'iBssize', (d) => d.put(SECTION_SIZE_KEY, encodeUint64(4096), VIEW)],
  ];
  test.each(cases)('%s: CorruptDataError naming %s, nothing deleted', async (_, key, damage) => {
    const d = db();
    await buildStore(d, SIZE, 3);
    await damage(d);
    const before = await dump(d);
    const err = await rejection(BloomBitsStore.open(d));
    expect(err).toBeInstanceOf(CorruptDataError);
    expect((err as CorruptDataError).details.key).toBe(key);
    const report = await verifyStore(d);
    expect(report.problems).toEqual([expect.objectContaining({ key })]);
    expect(await dump(d)).toEqual(before);
  });
});

describe('verify', () => {
  test('a sound store: every section checked, tail measured, nothing written', async () => {
    const d = db();
    const store = await buildStore(d, SIZE, 3);
    for (let n = 3 * SIZE; n < 3 * SIZE + 5; n++) await d.put(tailKey(n), new Uint8Array(288), VIEW);
    const before = await dump(d);
    const progress: number[] = [];
    const report = await store.verify({ onProgress: (done, total) => progress.push(done, total) });
    expect(report).toEqual({
      sectionSize: SIZE,
      sections: 3,
      checked: 3,
      unverifiable: 0,
      tail: { from: 3 * SIZE, length: 5 },
      problems: [],
    });
    expect(progress).toEqual([1, 3, 2, 3, 3, 3]);
    expect(await dump(d)).toEqual(before);
  });

  test('a go-ethereum db is unverifiable, not corrupt; sections we append are checked', async () => {
    const d = db();
    await buildStore(d, SIZE, 2);
    await toGethFormat(d);
    expect(await verifyStore(d)).toMatchObject({ sections: 2, checked: 0, unverifiable: 2, problems: [] });
    const store = await BloomBitsStore.open(d);
    await store.writeSection(2, headOf(2), randomSection(3, SIZE));
    expect(await store.verify()).toMatchObject({ sections: 3, checked: 1, unverifiable: 2, problems: [] });
    await d.del(sectionChecksumKey(2), VIEW);
    expect((await store.verify()).problems).toEqual([
      expect.objectContaining({ key: 'iBcsum/2', section: 2 }),
    ]);
  });

  test('every single-bit flip of a stored value is reported (decoding alone misses some)', async () => {
    const d = db();
    const store = await buildStore(d, SIZE, 2);
    const rand = prng(5);
    let silent = 0;
    for (let i = 0; i < 300; i++) {
      const section = Math.floor(rand() * 2);
      const bit = Math.floor(rand() * 2048);
      const key = vectorKey(bit, section, headOf(1000 + section));
      const value = (await d.get(key, VIEW))!;
      if (value.length === 0) continue;
      const flipped = Uint8Array.from(value); // not Buffer#slice: a view
      flipped[Math.floor(rand() * value.length)]! ^= 1 << Math.floor(rand() * 8);
      await d.put(key, flipped, VIEW);
      const report = await store.verify();
      expect(report.problems).toContainEqual(expect.objectContaining({ key: `iBcsum/${section}`, section }));
      try {
        decompressBytes(flipped, SIZE / 8);
        silent++; // decodes to some vector: only the checksum tells
      } catch {}
      await d.put(key, value, VIEW);
    }
    expect(silent).toBeGreaterThan(0);
    expect((await store.verify()).problems).toEqual([]);
  });

  test('missing and undecodable vectors, stray checksums and a broken tail are each reported', async () => {
    const d = db();
    const store = await buildStore(d, SIZE, 2);
    await d.del(vectorKey(5, 0, headOf(1000)), VIEW);
    await d.put(vectorKey(6, 1, headOf(1001)), Uint8Array.of(0xff, 0, 1), VIEW);
    await d.put(sectionChecksumKey(2), new Uint8Array(32), VIEW);
    await d.put(tailKey(2 * SIZE), new Uint8Array(288), VIEW);
    await d.put(tailKey(2 * SIZE + 2), new Uint8Array(288), VIEW);
    await d.put(tailKey(5), new Uint8Array(7), VIEW);
    const report = await store.verify();
    expect(report.tail).toEqual({ from: 2 * SIZE, length: 1 });
    // (iBcsum/0 fails too unless the deleted vector was all-zero, stored as an empty value.)
    expect(
      report.problems
        .map((p) => p.key)
        .filter((k) => k !== 'iBcsum/0')
        .sort(),
    ).toEqual(['B/5/0', 'B/6/1', 'iBcsum/1', 'iBcsum/2', 'iT/130', 'iT/5', 'iT/5'].sort());
  });

  test('a closed db is DatabaseClosedError', async () => {
    const d = db();
    const store = await buildStore(d, SIZE, 1);
    await d.close();
    expect(await rejection(store.verify())).toBeInstanceOf(DatabaseClosedError);
  });

  test('aborts with the signal reason', async () => {
    const store = await buildStore(db(), SIZE, 2);
    const controller = new AbortController();
    const reason = new Error('stop');
    const run = store.verify({ onProgress: () => controller.abort(reason), signal: controller.signal });
    expect(await rejection(run)).toBe(reason);
  });

  test('works on classic-level through a snapshot', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bloombits-verify-'));
    const d = new ClassicLevel<Uint8Array, Uint8Array>(dir, VIEW) as unknown as LevelDb;
    try {
      const store = await buildStore(d, SIZE, 2);
      const verifying = store.verify();
      await store.writeSection(2, headOf(2), randomSection(2, SIZE)); // after the snapshot
      expect(await verifying).toMatchObject({ sections: 2, checked: 2, problems: [] });
      expect(await store.verify()).toMatchObject({ sections: 3, checked: 3, problems: [] });
    } finally {
      await d.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('snapshots of heads for concurrent queries', () => {
  test('heads() is replaced, never mutated; readVectors reads under given heads until the sweep', async () => {
    const d = db();
    const store = await buildStore(d, SIZE, 3);
    const old = store.heads();
    expect(Object.isFrozen(old)).toBe(true);
    expect(old).toEqual([headOf(1000), headOf(1001), headOf(1002)]);
    const oldVectors = randomSection(1002, SIZE);
    await store.rollbackTo(2, {
      sweep: false,
      extraOps: [{ type: 'put', key: tailKey(0), value: new Uint8Array(288) }],
    });
    expect(old.length).toBe(3);
    expect(store.heads().length).toBe(2);
    expect(await d.get(tailKey(0), VIEW)).toBeDefined(); // extraOps committed with the rollback
    expect(await rejection(store.readVectors(9, [2]))).toBeInstanceOf(MissingSectionError);
    const replacement = randomSection(77, SIZE);
    await store.writeSection(2, headOf(77), replacement, [{ type: 'del', key: tailKey(0) }]);
    expect(await d.get(tailKey(0), VIEW)).toBeUndefined();
    expect(await store.readVectors(9, [2], old)).toEqual([oldVectors[9]]);
    expect(await store.readVectors(9, [2])).toEqual([replacement[9]]);
    expect(await rejection(store.readVectors(9, [3], old))).toBeInstanceOf(MissingSectionError);
    await store.sweep();
    expect(await rejection(store.readVectors(9, [2], old))).toBeInstanceOf(MissingSectionError);
    expect(await store.readVectors(9, [2])).toEqual([replacement[9]]);
    expect((await dump(d)).filter((e) => e.startsWith('42')).length).toBe(3 * 2048);
    expect((await store.verify()).problems).toEqual([]);
  });

  test('bad extraOps are a StoreError and write nothing', async () => {
    const d = db();
    const store = await buildStore(d, SIZE, 1);
    const before = await dump(d);
    const bad = [{ type: 'put', key: 'x' }] as never;
    expect(await rejection(store.writeSection(1, headOf(1), randomSection(1, SIZE), bad))).toBeInstanceOf(
      StoreError,
    );
    expect(await rejection(store.rollbackTo(0, { extraOps: bad }))).toBeInstanceOf(StoreError);
    expect(await dump(d)).toEqual(before);
  });
});
