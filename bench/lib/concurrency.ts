import { lastValueFrom, reduce } from 'rxjs';
import { createMatcher, type LogFilter, type Retriever, storeRetriever } from '../../src/index.js';
import { type Answer, addBlock, compareAnswers, emptyAnswer } from './answer.js';
import type { Store } from './engine.js';
import { WrongAnswerError } from './timing.js';
import { SECTION_SIZE } from './vectorStore.js';

export interface ConcurrencyRun {
  subscriptions: number;
  /** Most reads any (bit, section) got from the retriever (dedup holds when 1). */
  maxReads: number;
  /** Distinct (bit, section) pairs read. */
  pairs: number;
  wallMs: number;
}

/**
 * `n` identical subscriptions of one query on one matcher (default options), all at once,
 * through a retriever that counts the reads of every (bit, section). Every subscription must
 * get `expected`.
 */
export async function concurrentQueries(
  store: Store,
  filter: LogFilter,
  sections: number,
  n: number,
  expected: Answer,
): Promise<ConcurrencyRun> {
  const reads = new Uint16Array(2048 * sections);
  const inner = storeRetriever(store);
  const counting: Retriever = (task) => {
    for (const s of task.sections) reads[task.bit * sections + s]!++;
    return inner(task);
  };
  const matcher = createMatcher({ retriever: counting });
  const range = { fromBlock: 0, toBlock: sections * SECTION_SIZE - 1 };
  const t0 = performance.now();
  const answers = await Promise.all(
    Array.from({ length: n }, () =>
      lastValueFrom(matcher.match(filter, range).pipe(reduce(addBlock, emptyAnswer()))),
    ),
  );
  const wallMs = performance.now() - t0;
  for (const a of answers) {
    const problem = compareAnswers(`${n} concurrent subscriptions`, expected, a);
    if (problem) throw new WrongAnswerError(problem);
  }
  let maxReads = 0;
  let pairs = 0;
  for (const r of reads) {
    if (r > maxReads) maxReads = r;
    if (r > 0) pairs++;
  }
  return { subscriptions: n, maxReads, pairs, wallMs };
}
