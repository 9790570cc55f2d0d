import { ClassicLevel } from 'classic-level';
import { prng } from '../../spec/helpers/prng.js';
import {
  COUNT_KEY,
  compressBytes,
  encodeUint64,
  INDEX_LEVEL_OPTIONS,
  SECTION_SIZE_KEY,
  sectionHeadKey,
  vectorKey,
} from '../../src/index.js';
import { cached } from './dataDir.js';
import { queriedBits } from './shapes.js';

export const SECTION_SIZE = 4096;
export const VIEW = { keyEncoding: 'view', valueEncoding: 'view' } as const;
export type Db = ClassicLevel<Uint8Array, Uint8Array>;

/** A random vector of `SECTION_SIZE` bits, each set with probability `density` (MSB-first, as stored). */
export function randomVector(random: () => number, density: number): Uint8Array {
  const v = new Uint8Array(SECTION_SIZE / 8);
  if (density === 0.5) {
    // Every bit a fair coin: 4 random bytes per draw.
    for (let i = 0; i < v.length; i += 4) {
      const w = Math.floor(random() * 2 ** 32);
      v[i] = w >>> 24;
      v[i + 1] = (w >>> 16) & 0xff;
      v[i + 2] = (w >>> 8) & 0xff;
      v[i + 3] = w & 0xff;
    }
    return v;
  }
  // Geometric gaps between set bits: one draw per set bit instead of one per bit.
  const scale = 1 / Math.log(1 - density);
  for (let o = Math.floor(Math.log(1 - random()) * scale); o < SECTION_SIZE; ) {
    v[o >> 3]! |= 0x80 >> (o & 7);
    o += 1 + Math.floor(Math.log(1 - random()) * scale);
  }
  return v;
}

/**
 * A classic-level bloom-bits store of `sections` sections of random vectors at `density`,
 * holding only the bits the shapes query (every other bit would never be read), in the
 * store's exact key layout: vectors under their section heads, heads, count and size.
 * Seeded by density: every run and every engine reads the same bytes. Written (and read, see
 * `openStore`) with {@link INDEX_LEVEL_OPTIONS}, as the CLI writes and reads an index: 1 MiB tables
 * (the `-1mib` in the name: the 2 MiB tables of LevelDB's defaults were `vectors-10pct-5000`).
 */
export function vectorStore(density: number, sections: number): Promise<string> {
  return cached(`vectors-${density * 100}pct-${sections}-1mib`, async (dir) => {
    const db: Db = new ClassicLevel(dir, INDEX_LEVEL_OPTIONS);
    await db.open();
    const random = prng(Math.round(density * 1000) + 7);
    const bits = queriedBits();
    try {
      for (let s0 = 0; s0 < sections; s0 += 250) {
        const batch = db.batch();
        for (let s = s0; s < Math.min(sections, s0 + 250); s++) {
          const head = new Uint8Array(32).map(() => Math.floor(random() * 256));
          batch.put(sectionHeadKey(s), head);
          for (const bit of bits)
            batch.put(vectorKey(bit, s, head), compressBytes(randomVector(random, density)));
        }
        await batch.write();
      }
      await db.put(COUNT_KEY, encodeUint64(sections));
      await db.put(SECTION_SIZE_KEY, encodeUint64(SECTION_SIZE));
      await db.compactRange(new Uint8Array([0]), new Uint8Array([0xff]));
    } finally {
      await db.close();
    }
  });
}
