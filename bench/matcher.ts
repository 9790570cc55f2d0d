/**
 * Matcher throughput on a classic-level store, side by side with a plain loop that
 * reads the same vectors with one batched getMany per (bit, 16 sections) and ANDs them.
 *
 *   npx ts-node --transpile-only bench/matcher.ts [sections=5000] [density=0.1]
 *   CACHE_MB=2 npx ts-node --transpile-only bench/matcher.ts   # a smaller shared cache for the pipeline
 *   WORKERS=6 LOOKAHEAD=64 npx ts-node --transpile-only bench/matcher.ts   # other pipeline settings
 *
 * Only the vectors of the queried bits are written (in the store's exact key layout):
 * writing all 2048 bits of 5,000 sections would take minutes and prove nothing more.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { lastValueFrom, reduce } from 'rxjs';
import { prng } from '../spec/helpers/prng.js';
import { compressBytes } from '../src/bitutil/index.js';
import { createMatcher } from '../src/matcher/matcher.js';
import {
  BloomBitsStore,
  COUNT_KEY,
  encodeUint64,
  SECTION_SIZE_KEY,
  sectionHeadKey,
  vectorKey,
} from '../src/store/index.js';
import { storeRetriever } from '../src/store/storeRetriever.js';

const SECTIONS = Number(process.argv[2] ?? 5000);
const DENSITY = Number(process.argv[3] ?? 0.1);
const SECTION_SIZE = 4096;
const BATCH = 16;
const ROUNDS = 9;

// Two keys' bits (address + topic); the one-key query uses the first three.
const BITS = [1443, 481, 1060, 896, 1975, 1665];

// Seeded, so every run builds the same store.
const random = prng(42);

async function build(dir: string): Promise<ClassicLevel<Uint8Array, Uint8Array>> {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  for (let s0 = 0; s0 < SECTIONS; s0 += 500) {
    const batch = db.batch();
    for (let s = s0; s < Math.min(SECTIONS, s0 + 500); s++) {
      const head = new Uint8Array(32).map(() => Math.floor(random() * 256));
      batch.put(sectionHeadKey(s), head);
      for (const bit of BITS) {
        const v = new Uint8Array(SECTION_SIZE / 8);
        for (let o = 0; o < SECTION_SIZE; o++) if (random() < DENSITY) v[o >> 3]! |= 0x80 >> (o & 7);
        batch.put(vectorKey(bit, s, head), compressBytes(v));
      }
    }
    await batch.write();
  }
  await db.put(COUNT_KEY, encodeUint64(SECTIONS));
  await db.put(SECTION_SIZE_KEY, encodeUint64(SECTION_SIZE));
  return db;
}

/** The baseline: per 16 sections, one getMany per bit, AND, count candidate blocks. */
async function plainLoop(store: BloomBitsStore, bits: number[][]): Promise<number> {
  let found = 0;
  for (let s0 = 0; s0 < SECTIONS; s0 += BATCH) {
    const sections: number[] = [];
    for (let s = s0; s < Math.min(SECTIONS, s0 + BATCH); s++) sections.push(s);
    const flat = bits.flat();
    const vectors = await Promise.all(flat.map((bit) => store.readVectors(bit, sections)));
    for (let i = 0; i < sections.length; i++) {
      for (let byte = 0; byte < SECTION_SIZE / 8; byte++) {
        let x = 0xff;
        for (const v of vectors) x &= v[i]![byte]!;
        for (; x !== 0; x &= x - 1) found++;
      }
    }
  }
  return found;
}

async function pipeline(store: BloomBitsStore, bits: number[][]): Promise<number> {
  const matcher = createMatcher({
    retriever: storeRetriever(store),
    sectionSize: SECTION_SIZE,
    ...(process.env.CACHE_MB ? { cacheBytes: Number(process.env.CACHE_MB) * 2 ** 20 } : {}),
    ...(process.env.WORKERS ? { workers: Number(process.env.WORKERS) } : {}),
    ...(process.env.LOOKAHEAD ? { lookahead: Number(process.env.LOOKAHEAD) } : {}),
  });
  return lastValueFrom(
    matcher
      .matchBits(
        bits.map((clause) => [clause]),
        { fromBlock: 0, toBlock: SECTIONS * SECTION_SIZE - 1 },
      )
      .pipe(reduce((n) => n + 1, 0)),
  );
}

async function time<T>(f: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const r = await f();
  return [performance.now() - t0, r];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rxbb-bench-'));
  try {
    console.log(
      `building ${SECTIONS} sections x ${BITS.length} bits at ${DENSITY * 100}% density in ${dir} ...`,
    );
    const db = await build(dir);
    const store = await BloomBitsStore.open(db);
    const shapes: [string, number[][]][] = [
      ['one key (3 bits)', [BITS.slice(0, 3)]],
      ['address + topic (6 bits)', [BITS.slice(0, 3), BITS.slice(3)]],
    ];
    for (const [name, bits] of shapes) {
      const loopTimes: number[] = [];
      const pipeTimes: number[] = [];
      let counts: [number, number] = [0, 0];
      // Warm the OS and LevelDB caches and the JIT for both.
      await plainLoop(store, bits);
      await pipeline(store, bits);
      for (let r = 0; r < ROUNDS; r++) {
        // Alternate which goes first, so GC debt of one does not always land on the other.
        const loop = () => time(() => plainLoop(store, bits));
        const pipe = () => time(() => pipeline(store, bits));
        let l: [number, number];
        let p: [number, number];
        if (r % 2 === 0) {
          l = await loop();
          p = await pipe();
        } else {
          p = await pipe();
          l = await loop();
        }
        const [tl, nl] = l;
        const [tp, np] = p;
        loopTimes.push(tl);
        pipeTimes.push(tp);
        counts = [nl, np];
      }
      if (counts[0] !== counts[1])
        throw new Error(`result mismatch: loop ${counts[0]} vs pipeline ${counts[1]}`);
      const loopRate = SECTIONS / (median(loopTimes) / 1000);
      const pipeRate = SECTIONS / (median(pipeTimes) / 1000);
      console.log(
        `${name}: plain loop ${Math.round(loopRate)} sections/s, pipeline ${Math.round(pipeRate)} sections/s, ` +
          `ratio ${(pipeRate / loopRate).toFixed(2)} (medians of ${ROUNDS}; ${counts[1]} candidate blocks)`,
      );
    }

    // Peak memory of one 5,000-section (or SECTIONS) query, sampled while it runs.
    global.gc?.();
    const base = process.memoryUsage();
    let peakHeap = base.heapUsed;
    let peakRss = base.rss;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peakHeap = Math.max(peakHeap, m.heapUsed);
      peakRss = Math.max(peakRss, m.rss);
    }, 5);
    await pipeline(store, [BITS.slice(0, 3), BITS.slice(3)]);
    clearInterval(sampler);
    const mb = (n: number) => (n / 2 ** 20).toFixed(1);
    console.log(
      `peak memory of a ${SECTIONS}-section query: heap +${mb(peakHeap - base.heapUsed)} MiB ` +
        `(heap ${mb(peakHeap)} MiB, rss ${mb(peakRss)} MiB)`,
    );
    await db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
