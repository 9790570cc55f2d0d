import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Log } from '../../src/types/chain.js';
import { type Chain, padAddress, startChain } from '../helpers/ganache.js';
import { standingLogs } from '../helpers/retractions.js';
import { makeChain } from '../indexer/helpers.js';
import { assertBuilt, CLI_TIMEOUT, cli, lines, startCli } from './helpers.js';

jest.setTimeout(CLI_TIMEOUT);

let dir: string;
let chain: Chain | undefined;
let node: Server | undefined;
beforeAll(async () => {
  assertBuilt();
  dir = await mkdtemp(path.join(tmpdir(), 'rxbb-cli-follow-'));
});
afterAll(async () => {
  await chain?.close();
  if (node) await new Promise((r) => node?.close(r));
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('query --follow prints history then live logs, and Ctrl-C ends it with 0, a summary and the db closed', async () => {
  chain = await startChain();
  const emitter = await chain.deploy();
  const topic = padAddress(chain.accounts[3]!);
  await chain.emit(emitter, [{ topics: [topic], data: '0x01' }]);
  await chain.mine(3);
  const db = path.join(dir, 'follow');
  const run = startCli([
    'query',
    '--db',
    db,
    '--follow',
    '--rpc',
    chain.url,
    '--poll-interval',
    '50',
    '--address',
    emitter,
    '--topic0',
    chain.accounts[3]!,
    '--json',
  ]);
  await run.until((o) => lines(o.stdout).length >= 1);
  // live: two more matching logs and one that does not match
  await chain.emit(emitter, [{ topics: [topic], data: '0x02' }, { topics: [] }]);
  await chain.mine(2);
  await chain.emit(emitter, [{ topics: [topic], data: '0x03' }]);
  await run.until((o) => lines(o.stdout).length >= 3);
  run.child.kill('SIGINT');
  const r = await run.exited;
  expect(r.code).toBe(0);
  const oracle = await chain.getLogs({
    address: emitter,
    topics: [topic],
    fromBlock: '0x0',
    toBlock: 'latest',
  });
  expect(lines(r.stdout).map((l) => JSON.parse(l) as Log)).toEqual(
    oracle.map((l) => ({ ...l, removed: false })),
  );
  expect(lines(r.stderr)).toHaveLength(1);
  expect(r.stderr).toMatch(/^query: \d+ candidate blocks?, 3 logs, /);
  // the db was closed and is consistent: another process opens it and checks it
  const verify = await cli(['verify', '--db', db]);
  expect(verify.code).toBe(0);
});

it('query --follow across a reorg on the node: the dropped logs come again as removed, what stands is eth_getLogs', async () => {
  await chain?.close();
  chain = await startChain();
  const emitter = await chain.deploy();
  const topic = padAddress(chain.accounts[4]!);
  await chain.emit(emitter, [{ topics: [topic], data: '0x01' }]);
  await chain.mine(2);
  const snap = await chain.snapshot();
  await chain.emit(emitter, [{ topics: [topic], data: '0x02' }]);
  await chain.emit(emitter, [{ topics: [topic], data: '0x03' }]);
  const db = path.join(dir, 'follow-reorg');
  const args = ['query', '--db', db, '--follow', '--rpc', chain.url, '--poll-interval', '50'];
  const run = startCli([...args, '--address', emitter, '--topic0', chain.accounts[4]!, '--json']);
  await run.until((o) => lines(o.stdout).length >= 3);
  // The node drops the last two blocks and grows another branch with one matching log.
  await chain.revert(snap);
  await chain.emit(emitter, [{ topics: [topic], data: '0x04' }]);
  await chain.mine(3);
  await run.until((o) => lines(o.stdout).length >= 6);
  run.child.kill('SIGINT');
  const r = await run.exited;
  expect(r.code).toBe(0);
  const printed = lines(r.stdout).map((l) => JSON.parse(l) as Log);
  const id = (l: Log) => `${l.blockHash}:${l.logIndex}`;
  const stands = standingLogs(printed, id);
  expect(printed.filter((l) => l.removed).map((l) => l.data)).toEqual(['0x02', '0x03']);
  const oracle = await chain.getLogs({
    address: emitter,
    topics: [topic],
    fromBlock: '0x0',
    toBlock: 'latest',
  });
  expect(stands).toEqual(oracle.map(id));
  expect(r.stderr).toMatch(
    /^query: \d+ candidate blocks?, 4 logs, \d+ false-positive blocks? removed, 2 logs retracted by reorgs, /,
  );
});

/** A JSON-RPC node over a synthetic chain that answers slowly (each request ~40 ms). */
function slowNode(length: number): Promise<string> {
  const headers = makeChain(length, 11);
  const answer = (req: { id: number; method: string; params: unknown[] }) => {
    if (req.method === 'eth_blockNumber')
      return { jsonrpc: '2.0', id: req.id, result: `0x${(length - 1).toString(16)}` };
    const h = headers[Number(req.params[0])]!;
    return {
      jsonrpc: '2.0',
      id: req.id,
      result: {
        number: `0x${h.number.toString(16)}`,
        hash: h.hash,
        parentHash: h.parentHash,
        logsBloom: h.logsBloom,
      },
    };
  };
  node = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const parsed = JSON.parse(body);
      const out = Array.isArray(parsed) ? parsed.map(answer) : answer(parsed);
      setTimeout(() => res.end(JSON.stringify(out)), 40);
    });
  });
  return new Promise((resolve) =>
    node!.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(node!.address() as { port: number }).port}`),
    ),
  );
}

it("index shows progress against the node's head, and Ctrl-C stops it safely (exit 130, resumable)", async () => {
  const url = await slowNode(8000);
  const db = path.join(dir, 'interrupted');
  const args = ['index', '--db', db, '--rpc', url, '--section-size', '256', '--confirmations', '8'];
  const run = startCli(args);
  // without a TTY: plain lines, with the node's head as the target
  await run.until((o) => /indexed to block \d+ of 7999 \(\d+%\)/.test(o.stderr));
  run.child.kill('SIGINT');
  const r = await run.exited;
  expect(r.code).toBe(130);
  expect(r.stdout).toBe('');
  expect(lines(r.stderr).at(-1)).toMatch(/interrupted at block \d+ .*run the same command again to resume/);
  const verify = await cli(['verify', '--db', db, '--json']);
  expect(verify.code).toBe(0);
  const head = JSON.parse((await cli(['info', '--db', db, '--json'])).stdout).head as number;
  expect(head).toBeLessThan(7999);
  // the same command resumes and finishes
  const again = await cli(args);
  expect(again.code).toBe(0);
  expect(again.stdout).toMatch(/^indexed to block 7999: /);
});
