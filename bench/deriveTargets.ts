/**
 * One-off: derives go-ethereum's sections/s at 1% and 50% vector density from an older engine
 * of this library whose ratio to geth is known at 1% and 10% (see lib/targets.ts and README.md).
 *
 *   git worktree add /tmp/b-base 85f80da && ln -s "$PWD/node_modules" /tmp/b-base/node_modules
 *   npx ts-node --transpile-only bench/deriveTargets.ts /tmp/b-base [sections=5000] [rounds=5]
 *
 * It measures that engine's own rates (default options) at 1/10/50% in one run on the bench's
 * stores, interleaved (each round runs every shape at every density), so that load drift on a
 * shared machine hits all densities alike; medians per (shape, density).
 */
import { resolve } from 'node:path';
import type { Engine } from './lib/engine.js';
import { openStore, pipelineQuery } from './lib/engine.js';
import { SHAPES, type ShapeName } from './lib/shapes.js';
import { GETH_10PCT, OLD_OVER_GETH } from './lib/targets.js';
import { median, timed } from './lib/timing.js';
import { vectorStore } from './lib/vectorStore.js';

const PCTS = ['1', '10', '50'] as const;

async function main(): Promise<void> {
  const root = resolve(process.argv[2] ?? '/tmp/b-base');
  const sections = Number(process.argv[3] ?? 5000);
  const rounds = Number(process.argv[4] ?? 5);
  const engine: Engine = require(`${root}/src/index.ts`);
  const stores = await Promise.all(
    PCTS.map(async (pct) => openStore(engine, await vectorStore(Number(pct) / 100, 5000))),
  );
  const times: Record<string, number[]> = {};
  for (let r = -1; r < rounds; r++) {
    for (const shape of SHAPES) {
      for (let i = 0; i < PCTS.length; i++) {
        // Rotate the density order per round as well.
        const j = (i + Math.max(r, 0)) % PCTS.length;
        const [ms] = await timed(() => pipelineQuery(engine, stores[j]!.store, shape.filter, sections));
        if (r >= 0) (times[`${PCTS[j]}/${shape.name}`] ??= []).push(ms);
      }
    }
    console.log(`round ${r + 1}/${rounds}`);
  }
  await Promise.all(stores.map(({ db }) => db.close()));
  const old = (pct: string, s: ShapeName) => sections / (median(times[`${pct}/${s}`]!) / 1000);
  const out: Record<string, Record<string, number>> = {};
  for (const { name: s } of SHAPES) {
    const [o1, o10, o50] = PCTS.map((pct) => old(pct, s)) as [number, number, number];
    out[s] = {
      old1: Math.round(o1),
      old10: Math.round(o10),
      old50: Math.round(o50),
      geth1: Math.round(GETH_10PCT[s] * (OLD_OVER_GETH['10'][s] / OLD_OVER_GETH['1'][s]) * (o1 / o10)),
      geth10: GETH_10PCT[s],
      geth50: Math.round(GETH_10PCT[s] * (o50 / o10)),
    };
  }
  console.table(out);
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
