import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { lastValueFrom, type Observable } from 'rxjs';
import {
  type BlockHeader,
  BloomBitsGenerator,
  BloomIndex,
  encodeUint64,
  ndjsonHeaders,
  rlpFileHeaders,
} from '../../src/node.js';
import type { Chain } from './chains.js';
import { DATA_DIR } from './dataDir.js';
import { timed } from './timing.js';
import { type Db, SECTION_SIZE, VIEW } from './vectorStore.js';

export interface IndexRun {
  /** Headers per second, end to end: file → source → indexer → classic-level. */
  rate: number;
  /** The index's directory (the caller removes it). */
  dir: string;
}

/** Indexes a whole chain file into a fresh classic-level directory with default options. */
export async function indexChain(
  chain: Chain,
  source: (path: string) => Observable<BlockHeader>,
  path: string,
): Promise<IndexRun> {
  const dir = mkdtempSync(join(DATA_DIR, 'index-'));
  const db: Db = new ClassicLevel(dir, VIEW);
  await db.open();
  try {
    const index = await BloomIndex.open(db);
    const [ms] = await timed(() =>
      lastValueFrom(index.indexHeaders(source(path)), { defaultValue: undefined }),
    );
    const info = await index.info();
    if (info.sections !== chain.sections || info.head !== chain.blocks - 1)
      throw new Error(`indexing ${path} stopped early: ${JSON.stringify(info)}`);
    return { rate: chain.blocks / (ms / 1000), dir };
  } finally {
    await db.close();
  }
}

/** NDJSON.gz and RLP indexing of the same chain, alternating `rounds` times; medians. */
export async function indexingRates(
  chain: Chain,
  rounds: number,
): Promise<{ ndjson: number; rlp: number; ndjsonIndex: string; rlpIndex: string }> {
  const nd: number[] = [];
  const rl: number[] = [];
  let ndjsonIndex = '';
  let rlpIndex = '';
  const runNd = async () => {
    const r = await indexChain(chain, ndjsonHeaders, chain.ndjson);
    nd.push(r.rate);
    if (ndjsonIndex) rmSync(ndjsonIndex, { recursive: true, force: true });
    ndjsonIndex = r.dir;
  };
  const runRlp = async () => {
    const r = await indexChain(chain, rlpFileHeaders, chain.rlp);
    rl.push(r.rate);
    if (rlpIndex) rmSync(rlpIndex, { recursive: true, force: true });
    rlpIndex = r.dir;
  };
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      await runNd();
      await runRlp();
    } else {
      await runRlp();
      await runNd();
    }
  }
  const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  return { ndjson: mid(nd), rlp: mid(rl), ndjsonIndex, rlpIndex };
}

/** The first `sections` sections' blooms of a chain, read from its bloom db. */
export async function loadBlooms(chain: Chain, sections: number): Promise<Uint8Array[]> {
  const db: Db = new ClassicLevel(chain.blooms, VIEW);
  await db.open();
  try {
    const values = await db.values({ gte: encodeUint64(0), lt: encodeUint64(sections * SECTION_SIZE) }).all();
    // Plain arrays, as a source hands them to the indexer (level gives Buffers).
    return values.map((v) => Uint8Array.from(v));
  } finally {
    await db.close();
  }
}

/**
 * Generator throughput (headers/s) over the given blooms, whole sections, median of `rounds`.
 * `reuse`: one generator, `reset()` per section, as the indexer runs it; else a fresh
 * generator per section, whose 1 MiB of new vector memory (page faults in a young process)
 * is timed too.
 */
export function generatorRate(blooms: readonly Uint8Array[], rounds: number, reuse: boolean): number {
  const sections = Math.floor(blooms.length / SECTION_SIZE);
  const shared = new BloomBitsGenerator(SECTION_SIZE);
  const once = () => {
    for (let s = 0; s < sections; s++) {
      const gen = reuse ? shared : new BloomBitsGenerator(SECTION_SIZE);
      if (reuse) gen.reset();
      for (let o = 0; o < SECTION_SIZE; o++) gen.addBloom(o, blooms[s * SECTION_SIZE + o]!);
      gen.vectors();
    }
  };
  once(); // warm the JIT (twice: the first pass runs mostly unoptimised)
  once();
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    once();
    times.push(performance.now() - t0);
  }
  const ms = [...times].sort((a, b) => a - b)[times.length >> 1]!;
  return (sections * SECTION_SIZE) / (ms / 1000);
}

/** Share of bloom bits set over the blooms (the chain's real density). */
export function bitDensity(blooms: readonly Uint8Array[]): number {
  let set = 0;
  for (const b of blooms) for (let i = 0; i < b.length; i++) for (let x = b[i]!; x; x &= x - 1) set++;
  return set / (blooms.length * 2048);
}
