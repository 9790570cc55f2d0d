import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { MemoryLevel } from 'memory-level';
import { compressBytes } from '../../src/bitutil/index.js';
import { CorruptDataError, DatabaseClosedError, MissingSectionError, StoreError } from '../../src/errors.js';
import { BloomBitsGenerator } from '../../src/generator/index.js';
import {
  BloomBitsStore,
  CHECKSUM_FROM_KEY,
  COUNT_KEY,
  SECTION_SIZE_KEY,
  sectionChecksumKey,
  sectionHeadKey,
  vectorKey,
} from '../../src/store/index.js';
import { levelCall, mapLevelError } from '../../src/store/level-errors.js';
import { bytesToHex, hexToBytes } from '../../src/types/hex.js';
import { prng as rng } from '../helpers/prng.js';
import { asLevelDb, type LevelDb } from './fixtures.js';

const VIEW = { keyEncoding: 'view', valueEncoding: 'view' } as const;
const SIZE = 64;

/** Generator output for one section of random sparse blooms (a few keys per block, some empty blocks). */
function makeSection(seed: number, size = SIZE): Uint8Array[] {
  const rand = rng(seed);
  const gen = new BloomBitsGenerator(size);
  for (let o = 0; o < size; o++) {
    const bloom = new Uint8Array(256);
    const keys = rand() < 0.3 ? 0 : Math.floor(rand() * 6);
    for (let k = 0; k < keys * 3; k++) bloom[Math.floor(rand() * 256)]! |= 1 << Math.floor(rand() * 8);
    gen.addBloom(o, bloom);
  }
  return gen.vectors().map((v) => v.slice());
}

/** A 32-byte head hash derived from a number. */
const headOf = (n: number) => new Uint8Array(32).fill(0).map((_, i) => (n * 31 + i * 7) & 0xff);

/** Collects a rejected promise's error. */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

/** All raw keys of a db, as hex. */
async function rawKeys(db: LevelDb): Promise<string[]> {
  const out: string[] = [];
  for await (const k of db.keys({ keyEncoding: 'view' })) out.push(bytesToHex(k as Uint8Array));
  return out;
}

interface Backend {
  name: string;
  create(): Promise<LevelDb>;
  cleanup(): Promise<void>;
}

const dirs: string[] = [];
const opened: LevelDb[] = [];

const backends: Backend[] = [
  {
    name: 'memory-level',
    create: async () => new MemoryLevel<Uint8Array, Uint8Array>(VIEW),
    cleanup: async () => {},
  },
  {
    name: 'classic-level',
    create: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'bloombits-store-'));
      dirs.push(dir);
      return asLevelDb(new ClassicLevel<Uint8Array, Uint8Array>(dir, VIEW));
    },
    cleanup: async () => {
      for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
    },
  },
];

describe.each(backends)('BloomBitsStore on $name', (backend) => {
  let db: LevelDb;

  beforeEach(async () => {
    db = await backend.create();
    opened.push(db);
  });

  afterEach(async () => {
    for (const d of opened.splice(0)) if (d.status !== 'closed') await d.close();
    await backend.cleanup();
  });

  test('opens the db and starts empty, writing nothing', async () => {
    const store = await BloomBitsStore.open(db);
    expect(db.status).toBe('open');
    expect(store.db).toBe(db);
    expect(store.sectionSize).toBe(4096);
    expect(store.vectorLength).toBe(512);
    expect(await store.storedSections()).toBe(0);
    expect(await store.sectionHead(0)).toBeUndefined();
    expect(store.heads()).toEqual([]);
    expect(await rawKeys(db)).toEqual([]);
  });

  test('round-trips generator output of full 4096-block sections', async () => {
    const store = await BloomBitsStore.open(db);
    const sections = [makeSection(1, 4096), makeSection(2, 4096)];
    for (const [s, vectors] of sections.entries()) await store.writeSection(s, headOf(s), vectors);
    for (const bit of [0, 1, 777, 2047]) {
      const got = await store.readVectors(bit, [1, 0, 1]);
      expect(got).toEqual([sections[1]![bit], sections[0]![bit], sections[1]![bit]]);
    }
    // Reopening reads heads and count back from the db.
    const again = await BloomBitsStore.open(db);
    expect(await again.storedSections()).toBe(2);
    for (let bit = 0; bit < 2048; bit += 97) {
      expect(await again.readVectors(bit, [0, 1])).toEqual([sections[0]![bit], sections[1]![bit]]);
    }
    expect(db.status).toBe('open'); // the store never closes its db
  });

  test('writes the geth key layout byte for byte', async () => {
    const store = await BloomBitsStore.open(db, { sectionSize: SIZE });
    const vectors = makeSection(3);
    const head = hexToBytes(`0x${'ab'.repeat(31)}cd`);
    await store.writeSection(0, head, vectors);
    const key = vectorKey(1443, 0, head);
    expect(bytesToHex(key)).toBe(`0x4205a30000000000000000${'ab'.repeat(31)}cd`);
    expect(await db.get(key, VIEW)).toEqual(compressBytes(vectors[1443]!));
    expect(bytesToHex(COUNT_KEY)).toBe('0x6942636f756e74'); // "iBcount"
    expect(bytesToHex((await db.get(COUNT_KEY, VIEW))!)).toBe('0x0000000000000001');
    expect(bytesToHex(sectionHeadKey(0))).toBe('0x69427368656164' + '0000000000000000'); // "iBshead" ‖ u64
    expect(await db.get(sectionHeadKey(0), VIEW)).toEqual(head);
    expect(bytesToHex(SECTION_SIZE_KEY)).toBe('0x69427373697a65'); // "iBssize"
    expect(bytesToHex((await db.get(SECTION_SIZE_KEY, VIEW))!)).toBe('0x0000000000000040');
    // Ours: the checksum and the first checksummed section.
    expect(bytesToHex(sectionChecksumKey(0))).toBe('0x6942637375' + '6d' + '0000000000000000'); // "iBcsum" ‖ u64
    expect((await db.get(sectionChecksumKey(0), VIEW))!.length).toBe(32);
    expect(bytesToHex((await db.get(CHECKSUM_FROM_KEY, VIEW))!)).toBe('0x0000000000000000');
    // 2048 vector keys + count + shead + ssize + csum + cfrom, nothing else.
    const keys = await rawKeys(db);
    expect(keys.length).toBe(2048 + 5);
    expect(keys.filter((k) => k.startsWith('0x42')).every((k) => k.length === 2 + 86)).toBe(true);
  });

  test('stores an all-zero vector as an empty value and reads it back as zeros', async () => {
    const store = await BloomBitsStore.open(db, { sectionSize: SIZE });
    const vectors = Array.from({ length: 2048 }, () => new Uint8Array(8));
    vectors[5] = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
    await store.writeSection(0, headOf(0), vectors);
    expect((await db.get(vectorKey(0, 0, headOf(0)), VIEW))!.length).toBe(0);
    expect(await store.readVectors(0, [0])).toEqual([new Uint8Array(8)]);
    expect(await store.readVectors(5, [0])).toEqual([Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)]);
  });

  test('returns fresh arrays: mutating a result does not change later reads', async () => {
    const store = await BloomBitsStore.open(db, { sectionSize: SIZE });
    const vectors = Array.from({ length: 2048 }, (_, i) => new Uint8Array(8).fill(i & 0xff));
    await store.writeSection(0, headOf(0), vectors);
    const [first] = await store.readVectors(9, [0]);
    first!.fill(0xee);
    expect(await store.readVectors(9, [0])).toEqual([new Uint8Array(8).fill(9)]);
    const head = await store.sectionHead(0);
    head!.fill(0);
    expect(await store.sectionHead(0)).toEqual(headOf(0));
  });

  test('tracks count and heads', async () => {
    const store = await BloomBitsStore.open(db, { sectionSize: SIZE });
    for (let s = 0; s < 3; s++) {
      expect(await store.storedSections()).toBe(s);
      await store.writeSection(s, headOf(s), makeSection(10 + s));
    }
    expect(await store.storedSections()).toBe(3);
    for (let s = 0; s < 3; s++) expect(await store.sectionHead(s)).toEqual(headOf(s));
    expect(await store.sectionHead(3)).toBeUndefined();
    const fresh = await BloomBitsStore.open(db);
    expect(fresh.sectionSize).toBe(SIZE);
    expect(await fresh.sectionHead(2)).toEqual(headOf(2));
  });

  test('is append-only and validates lengths', async () => {
    const store = await BloomBitsStore.open(db, { sectionSize: SIZE });
    const vectors = makeSection(4);
    expect(await rejection(store.writeSection(1, headOf(1), vectors))).toBeInstanceOf(StoreError);
    await store.writeSection(0, headOf(0), vectors);
    expect(await rejection(store.writeSection(0, headOf(0), vectors))).toBeInstanceOf(StoreError);
    expect(await rejection(store.writeSection(1, new Uint8Array(31), vectors))).toBeInstanceOf(StoreError);
    expect(await rejection(store.writeSection(1, headOf(1), vectors.slice(1)))).toBeInstanceOf(StoreError);
    const badVector = [...vectors];
    badVector[2047] = new Uint8Array(9);
    expect(await rejection(store.writeSection(1, headOf(1), badVector))).toBeInstanceOf(StoreError);
    expect(await store.storedSections()).toBe(1);
    expect((await rawKeys(db)).length).toBe(2048 + 5); // failed writes left nothing behind
  });

  test('serialises concurrent writes of the same section', async () => {
    const store = await BloomBitsStore.open(db, { sectionSize: SIZE });
    const results = await Promise.allSettled([
      store.writeSection(0, headOf(0), makeSection(5)),
      store.writeSection(0, headOf(9), makeSection(6)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(StoreError);
    expect(await store.sectionHead(0)).toEqual(headOf(0));
  });

  test('rejects a mismatched or invalid section size', async () => {
    await (await BloomBitsStore.open(db, { sectionSize: SIZE })).writeSection(0, headOf(0), makeSection(8));
    expect(await rejection(BloomBitsStore.open(db, { sectionSize: 128 }))).toBeInstanceOf(StoreError);
    expect(await rejection(BloomBitsStore.open(db, { sectionSize: 12 }))).toBeInstanceOf(StoreError);
    expect((await BloomBitsStore.open(db)).sectionSize).toBe(SIZE);
  });

  test('rejects malformed metadata with CorruptDataError', async () => {
    await db.put(COUNT_KEY, Uint8Array.of(1, 2, 3), VIEW);
    const err = await rejection(BloomBitsStore.open(db));
    expect(err).toBeInstanceOf(CorruptDataError);
    expect((err as CorruptDataError).details.key).toBe('iBcount');
  });

  test('rolls back: count first, heads and vectors at or above the count are gone', async () => {
    const store = await BloomBitsStore.open(db, { sectionSize: SIZE });
    const sections = [makeSection(20), makeSection(21), makeSection(22)];
    for (const [s, v] of sections.entries()) await store.writeSection(s, headOf(s), v);
    await store.rollbackTo(1);
    expect(await store.storedSections()).toBe(1);
    expect(bytesToHex((await db.get(COUNT_KEY, VIEW))!)).toBe('0x0000000000000001');
    expect(await store.sectionHead(1)).toBeUndefined();
    expect(await db.get(sectionHeadKey(1), VIEW)).toBeUndefined();
    expect(await db.get(sectionHeadKey(2), VIEW)).toBeUndefined();
    const vectorKeys = (await rawKeys(db)).filter((k) => k.startsWith('0x42'));
    expect(vectorKeys.length).toBe(2048);
    expect(vectorKeys.every((k) => k.slice(8, 24) === '0000000000000000')).toBe(true);
    expect(await rejection(store.readVectors(7, [1]))).toBeInstanceOf(MissingSectionError);
    expect(await store.readVectors(7, [0])).toEqual([sections[0]![7]]);
    // Appending continues at the new count, under a new head.
    const replacement = makeSection(99);
    await store.writeSection(1, headOf(50), replacement);
    expect(await store.readVectors(7, [0, 1])).toEqual([sections[0]![7], replacement[7]]);
    expect(await (await BloomBitsStore.open(db)).storedSections()).toBe(2);
    // Rolling back to or above the count changes nothing.
    await store.rollbackTo(5);
    expect(await store.storedSections()).toBe(2);
    await store.rollbackTo(0);
    expect(await rawKeys(db)).toEqual([CHECKSUM_FROM_KEY, COUNT_KEY, SECTION_SIZE_KEY].map(bytesToHex));
  });

  test('a rollback sweeps unreferenced vectors left past the count', async () => {
    const store = await BloomBitsStore.open(db, { sectionSize: SIZE });
    await store.writeSection(0, headOf(0), makeSection(30));
    const garbage = vectorKey(2047, 1, headOf(1));
    await db.put(garbage, Uint8Array.of(1), VIEW);
    await store.rollbackTo(await store.storedSections());
    expect(await db.get(garbage, VIEW)).toBeUndefined();
    expect((await rawKeys(db)).length).toBe(2048 + 5);
  });

  test('missing sections, heads and vectors are MissingSectionError naming bit and section', async () => {
    const store = await BloomBitsStore.open(db, { sectionSize: SIZE });
    await store.writeSection(0, headOf(0), makeSection(40));
    await store.writeSection(1, headOf(1), makeSection(41));
    let err = await rejection(store.readVectors(12, [0, 2]));
    expect(err).toBeInstanceOf(MissingSectionError);
    expect(err).toMatchObject({ section: 2, bit: 12 });

    await db.del(vectorKey(12, 1, headOf(1)), VIEW);
    err = await rejection(store.readVectors(12, [0, 1]));
    expect(err).toBeInstanceOf(MissingSectionError);
    expect(err).toMatchObject({ section: 1, bit: 12 });
    expect((err as Error).message).toMatch(/bit 12.*section 1/);

    expect(await rejection(store.readVectors(2048, [0]))).toBeInstanceOf(StoreError);
    expect(await store.readVectors(3, [])).toEqual([]);
  });

  test('a read over nearby sections skips vectors left under other heads and keeps gaps and misses', async () => {
    const store = await BloomBitsStore.open(db, { sectionSize: SIZE });
    for (let s = 0; s < 6; s++) await store.writeSection(s, headOf(s), makeSection(50 + s));
    const old = store.heads();
    await store.rollbackTo(1, { sweep: false });
    // New heads sort below the old ones for some sections and above for others: stale keys on both sides.
    for (let s = 1; s < 6; s++) {
      const head = s % 2 === 0 ? new Uint8Array(32).fill(0x01) : new Uint8Array(32).fill(0xfe);
      head[0] = s;
      await store.writeSection(s, head, makeSection(90 + s));
    }
    const want = (seeds: number[], bit: number) => seeds.map((seed) => makeSection(seed)[bit]);
    for (const bit of [0, 7, 2047]) {
      expect(await store.readVectors(bit, [0, 1, 2, 3, 4, 5])).toEqual(want([50, 91, 92, 93, 94, 95], bit));
      expect(await store.readVectors(bit, [1, 2, 3, 4, 5], old)).toEqual(want([51, 52, 53, 54, 55], bit));
      expect(await store.readVectors(bit, [0, 2, 3, 5])).toEqual(want([50, 92, 93, 95], bit));
      expect(await store.readVectors(bit, [3, 3, 1])).toEqual(want([93, 93, 91], bit));
    }
    await db.del(vectorKey(7, 3, store.heads()[3]!), VIEW);
    const err = await rejection(store.readVectors(7, [2, 3, 4]));
    expect(err).toBeInstanceOf(MissingSectionError);
    expect(err).toMatchObject({ section: 3, bit: 7 });
  });

  test('a corrupt stored value is CorruptDataError naming bit and section', async () => {
    const store = await BloomBitsStore.open(db, { sectionSize: SIZE });
    await store.writeSection(0, headOf(0), makeSection(50));
    await store.writeSection(1, headOf(1), makeSection(51));
    for (const garbage of [Uint8Array.of(0xff, 0x00, 0x01), new Uint8Array(9).fill(7), Uint8Array.of(0x80)]) {
      await db.put(vectorKey(600, 1, headOf(1)), garbage, VIEW);
      const err = await rejection(store.readVectors(600, [0, 1]));
      expect(err).toBeInstanceOf(CorruptDataError);
      expect((err as CorruptDataError).details).toEqual({ bit: 600, section: 1 });
    }
    await db.put(sectionHeadKey(0), Uint8Array.of(1, 2), VIEW);
    const err = await rejection(BloomBitsStore.open(db));
    expect(err).toBeInstanceOf(CorruptDataError);
    expect((err as CorruptDataError).details.key).toBe('iBshead/0');
  });

  test('calls on a closed db throw DatabaseClosedError', async () => {
    const store = await BloomBitsStore.open(db, { sectionSize: SIZE });
    const vectors = makeSection(60);
    await store.writeSection(0, headOf(0), vectors);
    await db.close();
    expect(await rejection(store.readVectors(1, [0]))).toBeInstanceOf(DatabaseClosedError);
    expect(await rejection(store.storedSections())).toBeInstanceOf(DatabaseClosedError);
    expect(await rejection(store.sectionHead(0))).toBeInstanceOf(DatabaseClosedError);
    expect(await rejection(store.writeSection(1, headOf(1), vectors))).toBeInstanceOf(DatabaseClosedError);
    expect(await rejection(store.rollbackTo(0))).toBeInstanceOf(DatabaseClosedError);
    // abstract-level's own "not open" error is mapped as well.
    const raw = await rejection(db.getMany([COUNT_KEY], VIEW));
    expect((raw as { code?: string }).code).toBe('LEVEL_DATABASE_NOT_OPEN');
    expect(mapLevelError(raw)).toBeInstanceOf(DatabaseClosedError);
    expect(await rejection(levelCall(() => db.get(COUNT_KEY, VIEW)))).toBeInstanceOf(DatabaseClosedError);
    const other = new Error('other');
    expect(mapLevelError(other)).toBe(other);
    // Open reopens a closed db.
    const reopened = await BloomBitsStore.open(db);
    expect(await reopened.readVectors(1, [0])).toEqual([vectors[1]]);
  });

  test('works on a sublevel, keeping its keys under the sublevel prefix', async () => {
    const sub = db.sublevel<Uint8Array, Uint8Array>('bb', VIEW);
    const store = await BloomBitsStore.open(sub, { sectionSize: SIZE });
    const vectors = makeSection(70);
    await store.writeSection(0, headOf(0), vectors);
    expect(await store.readVectors(100, [0])).toEqual([vectors[100]]);
    expect(await db.get(COUNT_KEY, VIEW)).toBeUndefined();
    expect((await rawKeys(asLevelDb(sub))).length).toBe(2048 + 5);
    await store.rollbackTo(0);
    expect(await store.storedSections()).toBe(0);
    expect((await rawKeys(asLevelDb(sub))).length).toBe(3);
  });
});
