import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eventTopic } from '../../src/filter/topics.js';
import type { Log } from '../../src/types/chain.js';
import type { Hex } from '../../src/types/hex.js';
import { type Chain, padAddress, startChain } from '../helpers/ganache.js';
import { assertBuilt, CLI_TIMEOUT, cli, lines, MAIN, ROOT } from './helpers.js';

jest.setTimeout(CLI_TIMEOUT);

let dir: string;
let chain: Chain | undefined;
let failing: Server | undefined;

beforeAll(async () => {
  assertBuilt();
  dir = await mkdtemp(path.join(tmpdir(), 'rxbb-cli-rpc-'));
});
afterAll(async () => {
  await chain?.close();
  if (failing) await new Promise((r) => failing?.close(r));
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('indexes from a JSON-RPC node and prints the exact logs it serves (oracle: eth_getLogs)', async () => {
  chain = await startChain();
  const emitter = await chain.deploy();
  const topic = padAddress(chain.accounts[1]!);
  await chain.emit(emitter, [{ topics: [topic], data: '0x01' }, { topics: [] }]);
  await chain.mine(30);
  await chain.emit(emitter, [{ topics: [topic, topic] }]);
  await chain.mine(5);
  const head = await chain.blockNumber();
  const rpcDb = path.join(dir, 'rpc');
  const indexed = await cli([
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
  ]);
  expect(indexed.code).toBe(0);
  const progress = lines(indexed.stdout).map((l) => JSON.parse(l));
  expect(progress.at(-1)).toMatchObject({ headNumber: head, sections: Math.floor((head - 4 + 1) / 16) });

  const filter = JSON.stringify({ address: emitter, topics: [topic] });
  const logs = await cli([
    'query',
    '--db',
    rpcDb,
    '--filter',
    filter,
    '--logs',
    '--rpc',
    chain.url,
    '--quiet',
  ]);
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
});

it('--event, --address and an address --topic2 against a node: the logs eth_getLogs serves, decoded', async () => {
  // Runs after the test above, on its chain and index (the index resumes).
  if (!chain) throw new Error('needs the chain of the previous test');
  const emitter = await chain.deploy();
  const signature = 'Transfer(address indexed from, address indexed to, uint256 value)';
  const transfer = eventTopic(signature);
  const [from, to, other] = [chain.accounts[1]!, chain.accounts[2]!, chain.accounts[3]!];
  const value = (n: bigint): Hex => `0x${n.toString(16).padStart(64, '0')}`;
  await chain.emit(emitter, [
    { topics: [transfer, padAddress(from), padAddress(to)], data: value(10n ** 20n) },
  ]);
  await chain.emit(emitter, [{ topics: [transfer, padAddress(from), padAddress(other)], data: value(1n) }]);
  await chain.mine(3);
  await chain.emit(emitter, [{ topics: [transfer, padAddress(other), padAddress(to)], data: value(7n) }]);
  await chain.mine(20);
  const db = path.join(dir, 'rpc');
  const indexed = await cli(['index', '--db', db, '--rpc', chain.url, '--json']);
  expect(indexed.code).toBe(0);
  const r = await cli([
    'query',
    '--db',
    db,
    '--event',
    signature,
    '--address',
    emitter,
    '--topic2',
    to,
    '--logs',
    '--rpc',
    chain.url,
    '--json',
    '--quiet',
  ]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const expected = await chain.getLogs({
    address: emitter,
    topics: [transfer, null, padAddress(to)],
    fromBlock: '0x0',
    toBlock: 'latest',
  });
  expect(expected).toHaveLength(2);
  const got = lines(r.stdout).map(
    (l) => JSON.parse(l) as Log & { eventName: string; args: Record<string, string> },
  );
  expect(got.map((l) => [l.blockHash, l.logIndex, l.topics, l.data])).toEqual(
    expected.map((l) => [l.blockHash, l.logIndex, l.topics, l.data]),
  );
  expect(got.map((l) => l.eventName)).toEqual(['Transfer', 'Transfer']);
  expect(got.map((l) => [l.args.from?.toLowerCase(), l.args.to?.toLowerCase(), l.args.value])).toEqual([
    [from.toLowerCase(), to.toLowerCase(), (10n ** 20n).toString()],
    [other.toLowerCase(), to.toLowerCase(), '7'],
  ]);
});

/** A JSON-RPC endpoint that answers every request with 503 (a transient failure). */
async function unavailable(): Promise<string> {
  failing = createServer((_, res) => {
    res.writeHead(503).end('busy');
  });
  await new Promise<void>((r) => failing?.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(failing.address() as { port: number }).port}`;
}

it('a transient RPC failure is reported as it happens, with the retry about to run', async () => {
  const url = await unavailable();
  // 5 retries back off for ~8 s in total: read stderr only until the first retry line, then stop.
  const child = spawn(process.execPath, [MAIN, 'index', '--db', path.join(dir, 'retry'), '--rpc', url], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const first = await new Promise<string | undefined>((resolve) => {
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
      if (stderr.includes('\n')) resolve(stderr.split('\n')[0]);
    });
    child.on('close', () => resolve(undefined));
  });
  const exited = new Promise((r) => child.on('close', r));
  child.kill();
  await exited;
  expect(first).toMatch(/^rx-bloombits: .*503.*; retrying 1\/5 in \d+ ms$/);
});

it('--rpc-retries 1: one retry line, then the failure, exit 1', async () => {
  const url = failing
    ? `http://127.0.0.1:${(failing.address() as { port: number }).port}`
    : await unavailable();
  const r = await cli(['index', '--db', path.join(dir, 'retry-1'), '--rpc', url, '--rpc-retries', '1']);
  expect(r.code).toBe(1);
  expect(r.stdout).toBe('');
  const err = lines(r.stderr);
  expect(err).toHaveLength(2);
  expect(err[0]).toMatch(/^rx-bloombits: .*503.*; retrying 1\/1 in \d+ ms$/);
  expect(err[1]).toMatch(/^rx-bloombits: .*503/);
});

it('--rpc-timeout bounds a request that never gets an answer', async () => {
  const silent = createServer(() => undefined); // accepts requests, never answers
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
  try {
    const args = ['index', '--db', path.join(dir, 'timeout'), '--rpc', url, '--rpc-retries', '0'];
    const r = await cli([...args, '--rpc-timeout', '300']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr)).toEqual([expect.stringMatching(/^rx-bloombits: .*timed out after 300 ms/)]);
  } finally {
    silent.closeAllConnections();
    await new Promise((r) => silent.close(r));
  }
});
