import type { AbstractLevel } from 'abstract-level';
import { MemoryLevel } from 'memory-level';
import { BloomBitsStore, CHECKSUM_FROM_KEY, SECTION_SIZE_KEY } from '../../src/store/index.js';
import { bytesToHex } from '../../src/types/hex.js';
import { prng } from '../helpers/prng.js';

/** A full abstract-level db (the store itself only needs the narrower BloomBitsDb). */
// biome-ignore lint/suspicious/noExplicitAny: any backend
export type LevelDb = AbstractLevel<any, any, any>;

/**
 * Any abstract-level db as a {@link LevelDb}. TypeScript's variance check of AbstractLevel's
 * self-referential hooks/sublevel types can reject a ClassicLevel or a sublevel depending on the order
 * files are checked in; the runtime objects are all abstract-level dbs.
 */
export const asLevelDb = (db: object): LevelDb => db as LevelDb;

export const VIEW = { keyEncoding: 'view', valueEncoding: 'view' } as const;

/** A fresh in-memory binary db. */
export const memoryDb = (): LevelDb => new MemoryLevel<Uint8Array, Uint8Array>(VIEW);

/** A 32-byte head hash derived from a number. */
export const headOf = (n: number): Uint8Array =>
  Uint8Array.from({ length: 32 }, (_, i) => (n * 31 + i * 7 + 1) & 0xff);

/**
 * 2048 random vectors of `size` blocks, in a mix of densities (all-zero, sparse,
 * dense), so stored values are empty, sparse-encoded and raw.
 */
export function randomSection(seed: number, size: number): Uint8Array[] {
  const rand = prng(seed);
  return Array.from({ length: 2048 }, () => {
    const v = new Uint8Array(size / 8);
    const density = [0, 0.01, 0.05, 0.5][Math.floor(rand() * 4)]!;
    for (let i = 0; i < size; i++) if (rand() < density) v[i >> 3]! |= 0x80 >> (i & 7);
    return v;
  });
}

/** A store of `sections` random sections written by this project. */
export async function buildStore(
  db: LevelDb,
  size: number,
  sections: number,
  seed = 1,
): Promise<BloomBitsStore> {
  const store = await BloomBitsStore.open(db, { sectionSize: size });
  for (let s = 0; s < sections; s++)
    await store.writeSection(s, headOf(seed * 1000 + s), randomSection(seed * 1000 + s, size));
  return store;
}

/** Turns a db written by this project into what go-ethereum writes: drops our own keys (ssize, checksums, cfrom). */
export async function toGethFormat(db: LevelDb): Promise<void> {
  const ours: Uint8Array[] = [SECTION_SIZE_KEY, CHECKSUM_FROM_KEY];
  for await (const key of db.keys({ keyEncoding: 'view' })) {
    if (bytesToHex(key as Uint8Array).startsWith('0x69426373756d')) ours.push(key as Uint8Array); // "iBcsum"
  }
  await db.batch(
    ours.map((key) => ({ type: 'del' as const, key })),
    VIEW,
  );
}

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');

/** Every key and value of a db, as hex pairs in key order. */
export async function dump(db: LevelDb): Promise<string[]> {
  const out: string[] = [];
  for await (const [k, v] of db.iterator(VIEW)) out.push(`${hex(k as Uint8Array)}=${hex(v as Uint8Array)}`);
  return out;
}

/** Copies of every entry of a db, to rebuild it with {@link restore}. */
export async function entries(db: LevelDb): Promise<[Uint8Array, Uint8Array][]> {
  const out: [Uint8Array, Uint8Array][] = [];
  for await (const [k, v] of db.iterator(VIEW))
    out.push([Uint8Array.from(k as Uint8Array), Uint8Array.from(v as Uint8Array)]);
  return out;
}

/** A fresh in-memory db holding copies of `from`. */
export async function restore(from: readonly [Uint8Array, Uint8Array][]): Promise<LevelDb> {
  const db = memoryDb();
  await db.batch(
    from.map(([key, value]) => ({
      type: 'put' as const,
      key: Uint8Array.from(key),
      value: Uint8Array.from(value),
    })),
    VIEW,
  );
  return db;
}

/** Collects a rejected promise's error. */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}
