import { ClassicLevel } from 'classic-level';
import { lastValueFrom, reduce } from 'rxjs';
import type * as Api from '../../src/index.js';
import { INDEX_LEVEL_OPTIONS } from '../../src/index.js';
import { type Answer, addBlock, emptyAnswer } from './answer.js';
import { type Db, SECTION_SIZE } from './vectorStore.js';

/**
 * The parts of the public API a query figure uses. The bench passes `src/index.ts`; the
 * target derivation passes an older checkout's, which must answer the same calls.
 */
export type Engine = Pick<typeof Api, 'createMatcher' | 'storeRetriever' | 'BloomBitsStore'>;
export type Store = Api.BloomBitsStore;

/** Opens a classic-level directory read-only as a store of `engine`. */
export async function openStore(engine: Engine, dir: string): Promise<{ db: Db; store: Store }> {
  // As the CLI's read commands open an index (src/cli/openDb.ts): at most 64 tables mapped.
  const db: Db = new ClassicLevel(dir, INDEX_LEVEL_OPTIONS);
  await db.open();
  const store = await engine.BloomBitsStore.open(db, { readOnly: true });
  return { db, store };
}

/** One query through a fresh matcher with DEFAULT options (fresh: no vector cached by an earlier round). */
export function pipelineQuery(
  engine: Engine,
  store: Store,
  filter: Api.LogFilter,
  sections: number,
): Promise<Answer> {
  const matcher = engine.createMatcher({ retriever: engine.storeRetriever(store) });
  return lastValueFrom(
    matcher
      .match(filter, { fromBlock: 0, toBlock: sections * SECTION_SIZE - 1 })
      .pipe(reduce(addBlock, emptyAnswer())),
  );
}
