import { keccak_256 } from '@noble/hashes/sha3';
import { MemoryLevel } from 'memory-level';
import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { BloomIndex } from '../../src/bloomIndex.js';
import { rpcHeaders, rpcReceipts } from '../../src/sources/index.js';
import type { BlockRange, Log, LogFilter } from '../../src/types/chain.js';
import { bytesToHex, type Hex } from '../../src/types/hex.js';
import type { EmitLog } from '../helpers/emitter.js';
import { type Chain, padAddress, startChain, uint256 } from '../helpers/ganache.js';
import { prng } from '../indexer/helpers.js';

const sig = (s: string): Hex => bytesToHex(keccak_256(new TextEncoder().encode(s)));
const TRANSFER = sig('Transfer(address,address,uint256)');
const APPROVAL = sig('Approval(address,address,uint256)');
const SYNC = sig('Sync(uint112,uint112)');
const HEAD = 9500;

let chain: Chain;
let db: MemoryLevel<Uint8Array, Uint8Array>;
let index: BloomIndex;
let contracts: Hex[];
let users: Hex[];
const eventBlocks: number[] = [];

const hex = (n: number): Hex => `0x${n.toString(16)}`;
const project = (l: Log) => ({
  address: l.address.toLowerCase(),
  topics: l.topics.map((t) => t.toLowerCase()),
  data: l.data.toLowerCase(),
  blockNumber: Number(l.blockNumber),
  blockHash: l.blockHash.toLowerCase(),
  logIndex: Number(l.logIndex),
  transactionHash: l.transactionHash.toLowerCase(),
});

beforeAll(async () => {
  chain = await startChain();
  contracts = [await chain.deploy(), await chain.deploy(), await chain.deploy()];
  users = chain.accounts.slice(0, 5).map(padAddress);
  const rand = prng(2024);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const randomLog = (): EmitLog => {
    const n = Math.floor(rand() * 5);
    const named = rand() < 0.6;
    const topics: Hex[] = [];
    for (let i = 0; i < n; i++) {
      if (i === 0 && named) topics.push(pick([TRANSFER, APPROVAL, SYNC]));
      else topics.push(rand() < 0.7 ? pick(users) : uint256(Math.floor(rand() * 4)));
    }
    const bytes = Math.floor(rand() * 70);
    const data = bytesToHex(Uint8Array.from({ length: bytes }, () => Math.floor(rand() * 256)));
    return { topics, data };
  };
  // ~100 event blocks spread over sections 0, 1 and the tail, some right at the boundaries
  const targets = new Set([4, 5, 4094, 4095, 4096, 4097, 8190, 8191, 8192, 8193, HEAD - 300, HEAD - 1]);
  while (targets.size < 100) targets.add(4 + Math.floor(rand() * (HEAD - 10)));
  let current = await chain.blockNumber();
  for (const target of [...targets].sort((a, b) => a - b)) {
    await chain.mine(target - current - 1);
    const logs = () => Array.from({ length: 1 + Math.floor(rand() * 4) }, randomLog);
    if (rand() < 0.15) {
      const block = await chain.emitBlock([
        { contract: pick(contracts), logs: logs() },
        { contract: pick(contracts), logs: logs(), from: chain.accounts[1] },
        { contract: pick(contracts), logs: logs(), from: chain.accounts[2] },
      ]);
      current = block.number;
    } else {
      await chain.emit(pick(contracts), logs());
      current = await chain.blockNumber();
    }
    expect(current).toBe(target);
    eventBlocks.push(target);
  }
  await chain.mine(HEAD - current);
  expect(await chain.blockNumber()).toBe(HEAD);

  db = new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: 'view', valueEncoding: 'view' });
  index = await BloomIndex.open(db);
  await lastValueFrom(index.indexHeaders(rpcHeaders(chain.url)));
}, 120_000);

afterAll(async () => {
  await db?.close();
  await chain?.close();
});

it('indexes the ganache chain: two committed sections and a tail', () => {
  expect(index.info()).toMatchObject({ sectionSize: 4096, sections: 2, indexedHead: 8191, head: HEAD });
});

describe('logs() equals eth_getLogs and match() covers every log block', () => {
  const cases = (): [string, LogFilter, number, number][] => {
    const [a, b, c] = contracts as [Hex, Hex, Hex];
    const [u0, u1, u2] = users as [Hex, Hex, Hex];
    return [
      ['one address, everything', { address: a }, 0, HEAD],
      ['address list', { address: [a, c] }, 0, HEAD],
      ['topic0', { topics: [TRANSFER] }, 0, HEAD],
      ['topic0 OR list', { topics: [[APPROVAL, SYNC]] }, 0, HEAD],
      ['wildcard then topic', { topics: [null, u1] }, 0, HEAD],
      ['two positions', { topics: [TRANSFER, u0] }, 0, HEAD],
      ['trailing nulls', { address: b, topics: [TRANSFER, null, null] }, 0, HEAD],
      ['four positions', { topics: [null, null, null, [u0, u1, u2]] }, 0, HEAD],
      ['non-signature topic0 (anonymous)', { topics: [[u0, u1, u2, uint256(0), uint256(1)]] }, 0, HEAD],
      ['mid-section to mid-section', { address: [a, b, c] }, 1000, 3000],
      ['across the first boundary', { topics: [null, [u0, u2]] }, 4000, 4200],
      ['exactly at the boundaries', {}, 4095, 4096],
      ['last block of section 1 into the tail', { address: b }, 8191, 8193],
      ['across both boundaries', { address: c, topics: [null, null, u1] }, 2000, 9000],
      ['tail only', { topics: [[TRANSFER, APPROVAL]] }, 8300, HEAD],
      ['tail only, single block', {}, HEAD - 1, HEAD - 1],
      ['section 1 only', { address: a, topics: [null, [u0, u1, u2, u2]] }, 4096, 8191],
      ['unused address', { address: `0x${'ab'.repeat(20)}` }, 0, HEAD],
      ['unused topic', { topics: [null, sig('Nothing()')] }, 0, HEAD],
      ['empty filter, short range', {}, 4090, 4100],
      ['empty filter, first event blocks', {}, 0, 10],
      [
        'address and OR topics, tail to head',
        {
          address: [a, b],
          topics: [
            [TRANSFER, SYNC],
            [u0, u1],
          ],
        },
        8000,
        HEAD,
      ],
    ];
  };

  it('for 22 filters', async () => {
    const receipts = rpcReceipts(chain.url);
    let nonEmpty = 0;
    for (const [name, filter, from, to] of cases()) {
      const range: BlockRange = { fromBlock: from, toBlock: to };
      const expected = await chain.getLogs({ ...filter, fromBlock: hex(from), toBlock: hex(to) });
      const [got, blocks] = await Promise.all([
        lastValueFrom(index.logs(filter, range, { receipts }).pipe(toArray())),
        lastValueFrom(index.match(filter, range).pipe(toArray())),
      ]);
      expect({ name, logs: got.map(project) }).toEqual({ name, logs: expected.map(project) });
      for (let i = 1; i < blocks.length; i++) expect(blocks[i]).toBeGreaterThan(blocks[i - 1]!);
      expect(blocks.every((n) => n >= from && n <= to)).toBe(true);
      const have = new Set(blocks);
      for (const log of expected)
        expect({ name, block: Number(log.blockNumber), in: have.has(Number(log.blockNumber)) }).toMatchObject(
          { in: true },
        );
      if (expected.length > 0) nonEmpty++;
      if (Object.keys(filter).length === 0)
        expect(blocks).toEqual(Array.from({ length: to - from + 1 }, (_, i) => from + i));
    }
    expect(nonEmpty).toBeGreaterThanOrEqual(14);
  });
});

it('watch delivers history, then the logs of blocks indexed later (fed by indexHeaders, then by its source)', async () => {
  const receipts = rpcReceipts(chain.url);
  const [a, b] = contracts as [Hex, Hex];
  const filter: LogFilter = { address: b, topics: [[TRANSFER, APPROVAL]] };
  const getAll = (from: number) => chain.getLogs({ ...filter, fromBlock: hex(from), toBlock: 'latest' });
  const history = await getAll(7000);
  expect(history.length).toBeGreaterThan(0);

  // 1. another indexHeaders run feeds the index
  const first = firstValueFrom(
    index.watch(filter, { receipts, fromBlock: 7000 }).pipe(take(history.length + 3), toArray()),
  );
  await chain.emit(b, [
    { topics: [TRANSFER, users[0]!] },
    { topics: [SYNC] },
    { topics: [APPROVAL], data: '0x1234' },
  ]);
  await chain.emit(a, [{ topics: [TRANSFER] }]);
  await chain.mine(2);
  await chain.emit(b, [{ topics: [TRANSFER, users[1]!, users[2]!] }]);
  await lastValueFrom(index.indexHeaders(rpcHeaders(chain.url, { fromBlock: index.nextBlock })));
  const expected1 = await getAll(7000);
  expect(expected1).toHaveLength(history.length + 3);
  expect((await first).map(project)).toEqual(expected1.map(project));

  // 2. the watch indexes new blocks itself (source option); the chain is already ahead of the index
  await chain.emit(b, [{ topics: [APPROVAL, users[3]!] }]);
  await chain.mine(3);
  await chain.emit(b, [{ topics: [TRANSFER] }, { topics: [] }]);
  const expected2 = await getAll(9000);
  const since = index.head;
  const newer = expected2.filter((l) => Number(l.blockNumber) > since);
  expect(newer).toHaveLength(2);
  const second = await firstValueFrom(
    index
      .watch(filter, {
        receipts,
        fromBlock: 9000,
        source: (fromBlock) => rpcHeaders(chain.url, { fromBlock }),
      })
      .pipe(take(expected2.length), toArray()),
  );
  expect(second.map(project)).toEqual(expected2.map(project));
  expect(index.head).toBe(await chain.blockNumber());
});
