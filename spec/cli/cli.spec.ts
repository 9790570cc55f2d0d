import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ClassicLevel } from 'classic-level';
import { from, lastValueFrom } from 'rxjs';
import type { Hex } from '../../src/bloom/hex.js';
import type { Log } from '../../src/filter/types.js';
import { BloomIndex } from '../../src/indexer/bloomIndex.js';
import { COUNT_KEY } from '../../src/store/index.js';
import { type Chain, padAddress, startChain } from '../helpers/ganache.js';
import { ADDRESSES, makeChain } from '../indexer/helpers.js';

const ROOT = path.resolve(__dirname, '../..');
const SAMPLE = 'examples/data/sample-headers.ndjson.gz';
const SAMPLE_LOGS = 'examples/data/sample-logs.ndjson.gz';
const meta = JSON.parse(readFileSync(path.join(ROOT, 'examples/data/sample-meta.json'), 'utf8')) as {
  demoFilter: { address: Hex; topics: (Hex | null)[]; fromBlock: Hex; toBlock: Hex };
  demoExpected: { logs: number; blocks: number[] };
};

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(...args: string[]): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', 'src/cli/main.ts', ...args],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const lines = (s: string) => s.split('\n').filter((l) => l !== '');

/** A failure: non-zero exit, nothing on stdout, one "rx-bloombits: ..." line on stderr matching `pattern`. */
function expectOneError(r: Result, pattern: RegExp) {
  expect(r.code).not.toBe(0);
  expect(r.code).not.toBeNull();
  expect(r.stdout).toBe('');
  expect(lines(r.stderr)).toHaveLength(1);
  expect(r.stderr).toMatch(/^rx-bloombits: /);
  expect(r.stderr).toMatch(pattern);
}

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
let chain: Chain | undefined;
const held: ClassicLevel<Uint8Array, Uint8Array>[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rxbb-cli-'));
});
afterAll(async () => {
  await Promise.all(held.splice(0).map((db) => db.close()));
  await chain?.close();
  await rm(dir, { recursive: true, force: true });
});

/** A small index built in-process (synthetic chain, 64-block sections), closed again. */
async function smallIndex(name: string): Promise<string> {
  const at = path.join(dir, name);
  const db = new ClassicLevel<Uint8Array, Uint8Array>(at, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  const index = await BloomIndex.open(db, { sectionSize: 64, confirmations: 8 });
  await lastValueFrom(index.indexHeaders(from(makeChain(300, 5))));
  await db.close();
  return at;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

it('the CLI indexes, describes and queries the sample chain, and fails cleanly on bad input', async () => {
  const sampleDb = path.join(dir, 'sample');
  const oracle = demoOracle();
  expect(oracle).toHaveLength(meta.demoExpected.logs);

  const sampleFlow = async () => {
    const indexed = await cli('index', '--db', sampleDb, '--ndjson', SAMPLE);
    expect(indexed.stderr).not.toMatch(/error/i);
    expect(indexed.code).toBe(0);
    expect(lines(indexed.stdout).at(-1)).toMatch(
      /^indexed to block 12799: 3 sections committed, 512 blocks in the tail/,
    );

    const info = await cli('info', '--db', sampleDb, '--json');
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

    const plain = await cli('info', '--db', sampleDb);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/sections: +3 \(of 4096 blocks\)/);
    expect(plain.stdout).toMatch(/head: +12799/);

    const filter = JSON.stringify(meta.demoFilter);
    const query = await cli('query', '--db', sampleDb, '--filter', filter);
    expect(query.code).toBe(0);
    const blocks = lines(query.stdout).map(Number);
    expect(blocks.every(Number.isInteger)).toBe(true);
    expect([...blocks].sort((a, b) => a - b)).toEqual(blocks);
    expect(new Set(blocks).size).toBe(blocks.length);
    for (const b of meta.demoExpected.blocks) expect(blocks).toContain(b);
    expect(blocks.every((b) => b >= 0 && b <= 0x31ff)).toBe(true);

    // --from / --to override the filter's range
    const narrowed = await cli(
      'query',
      '--db',
      sampleDb,
      '--filter',
      filter,
      '--from',
      '4096',
      '--to',
      '0x2fff',
      '--json',
    );
    expect(narrowed.code).toBe(0);
    expect(lines(narrowed.stdout).map((l) => JSON.parse(l))).toEqual(
      blocks.filter((b) => b >= 4096 && b <= 0x2fff).map((blockNumber) => ({ blockNumber })),
    );

    const logs = await cli(
      'query',
      '--db',
      sampleDb,
      '--filter',
      filter,
      '--logs',
      '--logs-ndjson',
      SAMPLE_LOGS,
    );
    expect(logs.stderr).toBe('');
    expect(logs.code).toBe(0);
    expect(lines(logs.stdout).map((l) => JSON.parse(l))).toEqual(oracle);
  };

  const smallFlow = async () => {
    const small = await smallIndex('small');
    const [badAddress, reversed] = [
      await cli('query', '--db', small, '--filter', '{"address":"0x1234"}'),
      await cli('query', '--db', small, '--filter', '{}', '--from', '20', '--to', '10'),
    ];
    expectOneError(badAddress, /address/i);
    expectOneError(reversed, /revers|20|10/);

    // a db another process holds
    const locked = await smallIndex('locked');
    const holder = new ClassicLevel<Uint8Array, Uint8Array>(locked, {
      keyEncoding: 'view',
      valueEncoding: 'view',
    });
    await holder.open();
    held.push(holder);
    expectOneError(await cli('info', '--db', locked), /locked/);
  };

  const corruptFlow = async () => {
    const countDb = await smallIndex('corrupt-count');
    const vectorDb = await smallIndex('corrupt-vector');
    for (const [at, corrupt] of [
      [countDb, (db: ClassicLevel<Uint8Array, Uint8Array>) => db.put(COUNT_KEY, new Uint8Array([1, 2, 3]))],
      [
        vectorDb,
        async (db: ClassicLevel<Uint8Array, Uint8Array>) => {
          for await (const key of db.keys({ gte: new Uint8Array([0x42]), lt: new Uint8Array([0x43]) }))
            await db.put(key, new Uint8Array(40).fill(0xff));
        },
      ],
    ] as const) {
      const db = new ClassicLevel<Uint8Array, Uint8Array>(at, { keyEncoding: 'view', valueEncoding: 'view' });
      await db.open();
      await corrupt(db);
      await db.close();
    }
    const filter = JSON.stringify({ address: ADDRESSES[0] });
    const [count, vector] = await Promise.all([
      cli('query', '--db', countDb, '--filter', filter),
      cli('query', '--db', vectorDb, '--filter', filter, '--to', '100'),
    ]);
    expectOneError(count, /count|corrupt|bytes/i);
    expectOneError(vector, /vector|decompress|exceeded|corrupt|bit/i);
  };

  const rpcFlow = async () => {
    chain = await startChain();
    const emitter = await chain.deploy();
    const topic = padAddress(chain.accounts[1]!);
    await chain.emit(emitter, [{ topics: [topic], data: '0x01' }, { topics: [] }]);
    await chain.mine(30);
    await chain.emit(emitter, [{ topics: [topic, topic] }]);
    await chain.mine(5);
    const head = await chain.blockNumber();
    const rpcDb = path.join(dir, 'rpc');
    const indexed = await cli(
      'index',
      '--db',
      rpcDb,
      '--rpc',
      chain.url,
      '--section-size',
      '16',
      '--confirmations',
      '4',
      '--json',
    );
    expect(indexed.code).toBe(0);
    const progress = lines(indexed.stdout).map((l) => JSON.parse(l));
    expect(progress.at(-1)).toMatchObject({ headNumber: head, sections: Math.floor((head - 4 + 1) / 16) });
    const filter = JSON.stringify({ address: emitter, topics: [topic] });
    const logs = await cli('query', '--db', rpcDb, '--filter', filter, '--logs', '--rpc', chain.url);
    expect(logs.stderr).toBe('');
    expect(logs.code).toBe(0);
    const expected = await chain.getLogs({
      address: emitter,
      topics: [topic],
      fromBlock: '0x0',
      toBlock: 'latest',
    });
    expect(expected).toHaveLength(2);
    const got = lines(logs.stdout).map((l) => JSON.parse(l) as Log);
    expect(got.map((l) => [l.blockHash, l.logIndex, l.topics, l.data])).toEqual(
      expected.map((l) => [l.blockHash, l.logIndex, l.topics, l.data]),
    );
  };

  const errors = async () => {
    const port = await closedPort();
    const [none, unknown, badJson, missing, unreachable, rlp, twoSources] = await Promise.all([
      cli(),
      cli('frobnicate'),
      cli('query', '--db', path.join(dir, 'x'), '--filter', '{not json'),
      cli('query', '--db', path.join(dir, 'does-not-exist'), '--filter', '{}'),
      cli('index', '--db', path.join(dir, 'unreachable'), '--rpc', `http://127.0.0.1:${port}`),
      cli('index', '--db', path.join(dir, 'rlp'), '--rlp', 'spec/fixtures/mainnet/mainnet-blocks.rlp'),
      cli('index', '--db', path.join(dir, 'two'), '--rlp', 'a', '--ndjson', 'b'),
    ]);
    // commander's usage errors: non-zero, a message on stderr (plus help), nothing on stdout
    for (const r of [none, unknown, badJson]) {
      expect(r.code).not.toBe(0);
      expect(r.code).not.toBeNull();
      expect(r.stdout).toBe('');
    }
    expect(none.stderr).toMatch(/^Usage: rx-bloombits/);
    expect(unknown.stderr).toMatch(/^error: /);
    expect(badJson.stderr).toMatch(/^error: /);
    expect(unknown.stderr).toMatch(/unknown command 'frobnicate'/);
    expect(badJson.stderr).toMatch(/JSON/);
    expectOneError(missing, /no index at/);
    expectOneError(unreachable, new RegExp(`127\\.0\\.0\\.1:${port}`));
    expectOneError(rlp, /skip|does not build|block/);
    expectOneError(twoSources, /exactly one of/);
  };

  await Promise.all([sampleFlow(), smallFlow(), corruptFlow(), rpcFlow(), errors()]);
});
