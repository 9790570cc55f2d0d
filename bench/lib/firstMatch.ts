import { firstValueFrom } from 'rxjs';
import { createMatcher, type LogFilter, storeRetriever } from '../../src/index.js';
import type { Store } from './engine.js';
import { median } from './timing.js';
import { SECTION_SIZE } from './vectorStore.js';

/**
 * Milliseconds from subscribing a query over the whole store to its first candidate block,
 * on a warm store (db open, OS cache warm) with a fresh default matcher each try (its vector
 * cache empty); median of `tries`. Also checks the first block is `expectedFirst`.
 */
export async function timeToFirstMatch(
  store: Store,
  filter: LogFilter,
  sections: number,
  expectedFirst: number,
  tries: number,
): Promise<number> {
  const times: number[] = [];
  for (let t = 0; t < tries; t++) {
    const t0 = performance.now();
    const matcher = createMatcher({ retriever: storeRetriever(store) });
    const first = await firstValueFrom(
      matcher.match(filter, { fromBlock: 0, toBlock: sections * SECTION_SIZE - 1 }),
    );
    times.push(performance.now() - t0);
    if (first !== expectedFirst) throw new Error(`first match ${first}, expected ${expectedFirst}`);
  }
  return median(times);
}
