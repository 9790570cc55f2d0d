/**
 * Child process of the peak-memory figures (bundled by esbuild and run by plain node, so no
 * TypeScript compiler sits in the measured memory): opens the store in argv[2] read-only,
 * runs shape argv[4] over argv[3] sections with a default matcher, argv[5] times in a row
 * (default 1; a fresh matcher each time), prints one JSON line.
 */
import { readFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';
import * as api from '../../src/index.js';
import type { Answer } from './answer.js';
import { openStore, pipelineQuery } from './engine.js';
import type { RssRun } from './rss.js';
import { SHAPES } from './shapes.js';

/**
 * Resident bytes of LevelDB's table files (`.ldb`, `.sst`) mapped into this process, from
 * /proc/self/smaps (0 off Linux). LevelDB maps every table it opens (up to 1,000 on 64-bit)
 * and unmaps it only when its table cache drops it or the db closes.
 */
function mappedTables(): number {
  let text: string;
  try {
    text = readFileSync('/proc/self/smaps', 'utf8');
  } catch {
    return 0;
  }
  let total = 0;
  let table = false;
  for (const line of text.split('\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) table = /\.(ldb|sst)$/.test(line);
    else if (table && line.startsWith('Rss:')) total += Number(/(\d+) kB/.exec(line)?.[1] ?? 0) * 1024;
  }
  return total;
}

/** Fields of /proc/self/status in bytes (Linux), or undefined elsewhere. */
function status(): Record<'VmHWM' | 'RssAnon' | 'RssFile', number> | undefined {
  try {
    const text = readFileSync('/proc/self/status', 'utf8');
    const kb = (field: string) =>
      Number(new RegExp(`${field}:\\s*(\\d+) kB`).exec(text)?.[1] ?? Number.NaN) * 1024;
    return { VmHWM: kb('VmHWM'), RssAnon: kb('RssAnon'), RssFile: kb('RssFile') };
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const [dir, sections, shapeName, repeat = '1'] = process.argv.slice(2);
  const shape = SHAPES.find((s) => s.name === shapeName)!;
  const { db, store } = await openStore(api, dir!);
  const before = process.memoryUsage().rss;
  // Sampled every 5 ms: the split of RSS into private (anonymous) memory and file-backed pages
  // (LevelDB maps its table files: every page a read touches counts in RSS).
  let sampled = before;
  let anon = 0;
  let file = 0;
  // Where the private part goes: V8's heap (and its young generation) and ArrayBuffer contents.
  let heap = 0;
  let young = 0;
  let buffers = 0;
  const sample = () => {
    const m = process.memoryUsage();
    sampled = Math.max(sampled, m.rss);
    heap = Math.max(heap, m.heapTotal);
    buffers = Math.max(buffers, m.arrayBuffers);
    for (const space of getHeapSpaceStatistics())
      if (space.space_name === 'new_space') young = Math.max(young, space.physical_space_size);
    const s = status();
    if (s) {
      anon = Math.max(anon, s.RssAnon);
      file = Math.max(file, s.RssFile);
    }
  };
  const sampler = setInterval(sample, 5);
  let answer: Answer | undefined;
  try {
    for (let r = 0; r < Number(repeat); r++) {
      const next = await pipelineQuery(api, store, shape.filter, Number(sections));
      if (answer !== undefined && JSON.stringify(next) !== JSON.stringify(answer)) {
        throw new Error(`repeat ${r} answered differently`);
      }
      answer = next;
    }
  } finally {
    clearInterval(sampler);
  }
  sample();
  // The peak: VmHWM, the high-water mark of this exec's own memory. Not getrusage's maxrss:
  // Linux carries the parent's peak over fork + exec into it. Elsewhere, the sampled peak.
  const end = status();
  const peak = end?.VmHWM ?? sampled;
  // The 5 ms samples can miss the private peak; LevelDB's mappings stay until close, so
  // file-backed RSS only grows and VmHWM minus its final value is another lower bound.
  if (end) anon = Math.max(anon, end.VmHWM - end.RssFile);
  // Tables stay mapped while open, so their pages only grow unless the table cache evicts one:
  // the final count (before close) is their peak, or a lower bound of it.
  const tables = mappedTables();
  await db.close();
  const figures: Omit<RssRun, 'answer'> = { before, peak, anon, file, tables, heap, young, buffers };
  process.stdout.write(`${JSON.stringify({ ...figures, answer })}\n`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
