import { compareAnswers } from './answer.js';
import { type Engine, openStore, pipelineQuery } from './engine.js';
import { imperativeLoop } from './loop.js';
import { SHAPES, type ShapeName } from './shapes.js';
import { sideBySide } from './timing.js';

export interface QueryRate {
  shape: ShapeName;
  density: number;
  /** Sections per second of the pipeline (default options) and of the imperative loop. */
  pipeline: number;
  loop: number;
  /** Median over rounds of loop time ÷ pipeline time (the pipeline's speed relative to the loop). */
  ratio: number;
  /** Candidate blocks found (both agree). */
  blocks: number;
}

/**
 * Sections/s of every shape over the first `sections` sections of the store in `dir`,
 * the pipeline side by side with the imperative loop (which is also its oracle).
 */
export async function queryRates(
  engine: Engine,
  dir: string,
  density: number,
  sections: number,
  rounds: number,
  onRate: (r: QueryRate) => void = () => {},
): Promise<QueryRate[]> {
  const { db, store } = await openStore(engine, dir);
  const out: QueryRate[] = [];
  try {
    for (const shape of SHAPES) {
      const { left, right, ratio, a } = await sideBySide(
        rounds,
        () => pipelineQuery(engine, store, shape.filter, sections),
        () => imperativeLoop(store, shape.groups, sections),
        (p, l) => compareAnswers(`shape ${shape.name} at ${density * 100}%`, l, p),
      );
      const rate: QueryRate = {
        shape: shape.name,
        density,
        pipeline: sections / (left / 1000),
        loop: sections / (right / 1000),
        ratio,
        blocks: a.count,
      };
      onRate(rate);
      out.push(rate);
    }
  } finally {
    await db.close();
  }
  return out;
}
