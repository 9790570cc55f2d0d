import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Log } from '../../src/types/chain.js';
import type { Hex } from '../../src/types/hex.js';
import { assertBuilt, CLI_TIMEOUT, cli, lines, type Result, ROOT, SAMPLE, SAMPLE_LOGS } from './helpers.js';

jest.setTimeout(CLI_TIMEOUT);

const meta = JSON.parse(readFileSync(path.join(ROOT, 'examples/data/sample-meta.json'), 'utf8')) as {
  demoFilter: { address: Hex; topics: (Hex | null)[]; fromBlock: Hex; toBlock: Hex };
  demoExpected: { logs: number; blocks: number[] };
};
const FILTER = JSON.stringify(meta.demoFilter);

/** The sample's logs matching the demo filter, computed straight from the log file. */
function demoOracle(): Log[] {
  const all = lines(gunzipSync(readFileSync(path.join(ROOT, SAMPLE_LOGS))).toString('utf8')).map(
    (l) => JSON.parse(l) as Log,
  );
  const f = meta.demoFilter;
  return all.filter(
    (l) =>
      l.address === f.address &&
      l.topics[0] === f.topics[0] &&
      l.topics[2] === f.topics[2] &&
      Number(l.blockNumber) >= Number(f.fromBlock) &&
      Number(l.blockNumber) <= Number(f.toBlock),
  );
}

let dir: string;
let sampleDb: string;
let indexed: Result;

beforeAll(async () => {
  assertBuilt();
  dir = await mkdtemp(path.join(tmpdir(), 'rxbb-cli-'));
  sampleDb = path.join(dir, 'sample');
  indexed = await cli(['index', '--db', sampleDb, '--ndjson', SAMPLE]);
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the sample chain through the CLI', () => {
  it('index --ndjson indexes the whole file and reports the head', () => {
    expect(indexed.stderr).not.toMatch(/error/i);
    expect(indexed.code).toBe(0);
    expect(lines(indexed.stdout).at(-1)).toMatch(
      /^indexed to block 12799: 3 sections committed, 512 blocks in the tail/,
    );
  });

  it('info --json describes the index', async () => {
    const info = await cli(['info', '--db', sampleDb, '--json']);
    expect(info.code).toBe(0);
    const parsed = JSON.parse(info.stdout);
    expect(parsed).toMatchObject({
      sectionSize: 4096,
      sections: 3,
      indexedHead: 12287,
      head: 12799,
      tailLength: 512,
    });
    expect(parsed.sizeOnDisk).toBeGreaterThan(0);
  });

  it('info prints a readable summary', async () => {
    const plain = await cli(['info', '--db', sampleDb]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/sections: +3 \(of 4096 blocks\)/);
    expect(plain.stdout).toMatch(/head: +12799/);
  });

  it("query prints ascending unique candidate blocks within the filter's range, every block with a match among them", async () => {
    const query = await cli(['query', '--db', sampleDb, '--filter', FILTER]);
    expect(query.code).toBe(0);
    const blocks = lines(query.stdout).map(Number);
    // the one-line summary on stderr counts what stdout got
    expect(query.stderr).toBe(
      `query: ${blocks.length} candidate blocks, ${/[\d.]+ s/.exec(query.stderr)?.[0]}\n`,
    );
    expect(blocks.every(Number.isInteger)).toBe(true);
    expect([...blocks].sort((a, b) => a - b)).toEqual(blocks);
    expect(new Set(blocks).size).toBe(blocks.length);
    for (const b of meta.demoExpected.blocks) expect(blocks).toContain(b);
    expect(blocks.every((b) => b >= 0 && b <= 0x31ff)).toBe(true);
  });

  it("--from/--to override the filter's range; --json prints objects", async () => {
    // One after the other: LevelDB's lock lets one process open the db at a time.
    const all = await cli(['query', '--db', sampleDb, '--filter', FILTER]);
    const narrowed = await cli([
      'query',
      '--db',
      sampleDb,
      '--filter',
      FILTER,
      '--from',
      '4096',
      '--to',
      '0x2fff',
      '--json',
    ]);
    expect(all.code).toBe(0);
    expect(narrowed.code).toBe(0);
    const blocks = lines(all.stdout).map(Number);
    expect(lines(narrowed.stdout).map((l) => JSON.parse(l))).toEqual(
      blocks.filter((b) => b >= 4096 && b <= 0x2fff).map((blockNumber) => ({ blockNumber })),
    );
  });

  it('query --logs --logs-ndjson prints exactly the logs of the filter (oracle: the log file)', async () => {
    const oracle = demoOracle();
    expect(oracle).toHaveLength(meta.demoExpected.logs);
    const logs = await cli([
      'query',
      '--db',
      sampleDb,
      '--filter',
      FILTER,
      '--logs',
      '--logs-ndjson',
      SAMPLE_LOGS,
    ]);
    expect(logs.code).toBe(0);
    expect(lines(logs.stdout).map((l) => JSON.parse(l))).toEqual(oracle);
    // candidates = blocks with a log + false positives removed
    const [, candidates, count, removed] =
      /^query: (\d+) candidate blocks, (\d+) logs, (\d+) false-positive blocks? removed, [\d.]+ s\n$/
        .exec(logs.stderr)!
        .map(Number);
    expect(count).toBe(oracle.length);
    expect(candidates! - removed!).toBe(new Set(oracle.map((l) => l.blockNumber)).size);
  });

  it('verify checks every section of a sound index and exits 0', async () => {
    const r = await cli(['verify', '--db', sampleDb, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      sectionSize: 4096,
      sections: 3,
      checked: 3,
      unverifiable: 0,
      tail: { from: 12288, length: 512 },
      problems: [],
    });
  });

  it('index --to stops a file source at that block; a second run continues to the end of the file', async () => {
    const at = path.join(dir, 'to');
    const first = await cli(['index', '--db', at, '--ndjson', SAMPLE, '--to', '5000']);
    expect(first.code).toBe(0);
    expect(lines(first.stdout).at(-1)).toMatch(
      /^indexed to block 5000: 1 sections committed, 905 blocks in the tail/,
    );
    const rest = await cli(['index', '--db', at, '--ndjson', SAMPLE]);
    expect(rest.code).toBe(0);
    expect(lines(rest.stdout).at(-1)).toMatch(/^indexed to block 12799: 3 sections committed/);
  });
});
