/**
 * Child process of the peak-RSS figure (bundled by esbuild and run by plain node, so no
 * TypeScript compiler sits in the measured memory): opens the store in argv[2] read-only,
 * runs shape argv[4] over argv[3] sections with a default matcher, prints one JSON line.
 */
import * as api from '../../src/index.js';
import { openStore, pipelineQuery } from './engine.js';
import { SHAPES } from './shapes.js';

async function main(): Promise<void> {
  const [dir, sections, shapeName] = process.argv.slice(2);
  const shape = SHAPES.find((s) => s.name === shapeName)!;
  const { db, store } = await openStore(api, dir!);
  const before = process.memoryUsage().rss;
  const answer = await pipelineQuery(api, store, shape.filter, Number(sections));
  const peak = process.resourceUsage().maxRSS * 1024;
  await db.close();
  process.stdout.write(`${JSON.stringify({ before, peak, answer })}\n`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
