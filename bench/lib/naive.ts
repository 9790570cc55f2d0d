import { ClassicLevel } from 'classic-level';
import * as api from '../../src/index.js';
import { BloomBitsStore, compileFilter, encodeUint64, type LogFilter } from '../../src/index.js';
import { type Answer, addBlock, compareAnswers, emptyAnswer } from './answer.js';
import { pipelineQuery } from './engine.js';
import { sideBySide, WrongAnswerError } from './timing.js';
import { type Db, SECTION_SIZE, VIEW } from './vectorStore.js';

/** Untimed index queries before the naive-scan figure's rounds. */
const WARM_UP_QUERIES = 30;
/** Index queries per timed round of the naive-scan figure (see naiveSpeedup). */
const QUERIES_PER_ROUND = 10;

/**
 * What a node without the index does: read every block's stored 256-byte logsBloom in the
 * range (one classic-level iterator, values only, 1,000 per native call) and test the filter's
 * bits in it. Tight on purpose: precomputed (byte, mask) per bit, no validation, no copies.
 */
export async function naiveScan(db: Db, filter: LogFilter, blocks: number): Promise<Answer> {
  const groups = compileFilter(filter).map((g) =>
    g.map((clause) => clause.map((v) => [255 - (v >> 3), 1 << (v & 7)] as const)),
  );
  const answer = emptyAnswer();
  const it = db.values({ gte: encodeUint64(0), lt: encodeUint64(blocks) });
  try {
    let n = 0;
    for (;;) {
      const blooms = await it.nextv(1000);
      if (blooms.length === 0) break;
      for (const bloom of blooms) {
        let all = true;
        for (const group of groups) {
          let any = false;
          for (const clause of group) {
            let hit = true;
            for (const [byte, mask] of clause) if ((bloom[byte]! & mask) === 0) hit = false;
            if (hit) {
              any = true;
              break;
            }
          }
          if (!any) {
            all = false;
            break;
          }
        }
        if (all) addBlock(answer, n);
        n++;
      }
    }
  } finally {
    await it.close();
  }
  return answer;
}

/**
 * Index query (fresh default matcher over the index built from the chain) side by side with
 * the naive scan over the same blocks (the committed sections); both must find the same blocks.
 */
export async function naiveSpeedup(
  indexDir: string,
  bloomsDir: string,
  filter: LogFilter,
  sections: number,
  rounds: number,
): Promise<{ speedup: number; indexMs: number; naiveMs: number; blocks: number }> {
  const indexDb: Db = new ClassicLevel(indexDir, VIEW);
  const bloomDb: Db = new ClassicLevel(bloomsDir, VIEW);
  await Promise.all([indexDb.open(), bloomDb.open()]);
  try {
    // Both freshly written: settle LevelDB's background compactions first, for both sides alike.
    const all = [new Uint8Array([0]), new Uint8Array([0xff])] as const;
    await Promise.all([indexDb.compactRange(...all), bloomDb.compactRange(...all)]);
    const store = await BloomBitsStore.open(indexDb, { readOnly: true });
    // Untimed JIT warm-up: a 20-section query is over before V8 optimises the matcher's code,
    // so in a cold bench process the few timed rounds would measure the interpreter (an app's
    // long-running process has that code warm). Still a fresh matcher per query: no vector is cached.
    for (let i = 0; i < WARM_UP_QUERIES; i++) await pipelineQuery(api, store, filter, sections);
    // The index side of a round is QUERIES_PER_ROUND fresh-matcher queries in a row, timed
    // together: the first query after a scan pays for the scan's garbage (82k dead Buffers
    // collected when the query's own reads push V8 into a full GC: ~1.8 ms alone, ~12 ms right
    // after a scan, measured); timed alone it would carry that debt in most rounds.
    const indexQueries = async () => {
      let answer = await pipelineQuery(api, store, filter, sections);
      for (let i = 1; i < QUERIES_PER_ROUND; i++) {
        const next = await pipelineQuery(api, store, filter, sections);
        const problem = compareAnswers('index query repeated', answer, next);
        if (problem) throw new WrongAnswerError(problem);
        answer = next;
      }
      return answer;
    };
    const { left, right, ratio, a } = await sideBySide(
      rounds,
      indexQueries,
      () => naiveScan(bloomDb, filter, sections * SECTION_SIZE),
      (idx, naive) => compareAnswers('index vs naive scan', naive, idx),
    );
    return {
      speedup: ratio * QUERIES_PER_ROUND,
      indexMs: left / QUERIES_PER_ROUND,
      naiveMs: right,
      blocks: a.count,
    };
  } finally {
    await Promise.all([indexDb.close(), bloomDb.close()]);
  }
}
