/**
 * Verify speed: builds a store of SECTIONS sections of SIZE blocks with
 * random vectors (mixed densities) and times store.verify().
 * Run: npx ts-node --transpile-only bench/verify.ts [memory|classic]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { MemoryLevel } from 'memory-level';
import { prng } from '../spec/helpers/prng.js';
import { BloomBitsStore } from '../src/store/index.js';

const SECTIONS = Number(process.env.SECTIONS ?? 50);
const SIZE = Number(process.env.SIZE ?? 4096);
const VIEW = { keyEncoding: 'view', valueEncoding: 'view' } as const;

function section(seed: number): Uint8Array[] {
  const rand = prng(seed);
  return Array.from({ length: 2048 }, () => {
    const v = new Uint8Array(SIZE / 8);
    const density = [0, 0.002, 0.02, 0.2][Math.floor(rand() * 4)]!;
    for (let i = 0; i < SIZE; i++) if (rand() < density) v[i >> 3]! |= 0x80 >> (i & 7);
    return v;
  });
}

async function main(): Promise<void> {
  const kind = process.argv[2] ?? 'classic';
  const dir = kind === 'classic' ? await mkdtemp(join(tmpdir(), 'bloombits-bench-verify-')) : undefined;
  const db = dir ? new ClassicLevel(dir, VIEW) : new MemoryLevel(VIEW);
  try {
    const store = await BloomBitsStore.open(db, { sectionSize: SIZE });
    const vectors = section(1);
    let t = performance.now();
    for (let s = 0; s < SECTIONS; s++) {
      const head = new Uint8Array(32).fill(s + 1);
      await store.writeSection(s, head, vectors);
    }
    console.log(`write ${SECTIONS} sections: ${(performance.now() - t).toFixed(0)} ms`);
    for (let run = 0; run < 3; run++) {
      t = performance.now();
      const report = await store.verify();
      const ms = performance.now() - t;
      console.log(
        `${kind}: verify ${report.sections} sections of ${SIZE}: ${ms.toFixed(0)} ms (${(ms / report.sections) | 0} ms/section), problems ${report.problems.length}`,
      );
    }
  } finally {
    await db.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

void main();
