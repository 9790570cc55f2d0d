import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { BloomBitsStore } from '../../src/store/store.js';
import { storeRetriever } from '../../src/store/storeRetriever.js';
import { vectorOf } from '../matcher/helpers.js';
import { asLevelDb, headOf, type LevelDb, memoryDb, VIEW } from '../store/fixtures.js';
import { type ConformanceWorld, type RetrieverSubject, retrieverConformance } from './conformance.js';

/** Writes the world's sections into a store over `db` and hands out its storeRetriever. */
async function subject(
  db: LevelDb,
  w: ConformanceWorld,
  cleanup: () => Promise<void>,
): Promise<RetrieverSubject> {
  const store = await BloomBitsStore.open(db, { sectionSize: w.sectionSize });
  for (let s = 0; s < w.sections; s++) {
    const vectors = Array.from({ length: 2048 }, (_, bit) => vectorOf(w.world, bit, s, w.sectionSize));
    await store.writeSection(s, headOf(s), vectors);
  }
  return {
    retriever: storeRetriever(store),
    missing: 'error',
    close: async () => {
      await db.close();
      await cleanup();
    },
  };
}

retrieverConformance('storeRetriever over memory-level', (w) => subject(memoryDb(), w, async () => {}));

retrieverConformance('storeRetriever over classic-level', async (w) => {
  const dir = await mkdtemp(join(tmpdir(), 'rxbb-retriever-'));
  const db = new ClassicLevel<Uint8Array, Uint8Array>(join(dir, 'db'), VIEW);
  return subject(asLevelDb(db), w, () => rm(dir, { recursive: true, force: true }));
});
