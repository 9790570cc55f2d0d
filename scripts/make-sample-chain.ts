/**
 * Builds a local ganache chain of ~12,800 blocks (three 4096-block sections plus a tail) with
 * emitter contracts posing as tokens, a swap pool, an NFT collection and a "misc" contract that
 * emits anonymous and LOG0 logs, then writes examples/data/:
 *
 *   sample-headers.ndjson.gz  one JSON-RPC block object per line (number, hash, parentHash, logsBloom, timestamp)
 *   sample-logs.ndjson.gz     every log of the chain (eth_getLogs over the whole range), in (block, logIndex) order
 *   sample-meta.json          block range, contract addresses, topics, users and a demo filter
 *
 * Run: npx ts-node --transpile-only scripts/make-sample-chain.ts [outDir]
 *
 * Deterministic: fixed wallet seed, genesis time and block timestamps, and a seeded PRNG, so a
 * re-run writes byte-identical files (with the same ganache version).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { keccak_256 } from '@noble/hashes/sha3';
import type { EmitLog } from '../spec/helpers/emitter.js';
import {
  type EmitTx,
  padAddress,
  type RpcBlock,
  rpcBatch,
  startChain,
  uint256,
} from '../spec/helpers/ganache.js';
import { prng as mulberry32 } from '../spec/helpers/prng.js';
import type { Log } from '../src/types/chain.js';
import { bytesToHex, type Hex } from '../src/types/hex.js';

const SECTION = 4096;
const TO_BLOCK = 3 * SECTION + 512 - 1; // 12,799: three full sections and a 512-block tail
const GENESIS_TIME = Date.UTC(2024, 0, 1) / 1000;
const BLOCK_TIME = 12;
const timestampOf = (n: number) => GENESIS_TIME + BLOCK_TIME * n;

const OUT_DIR = resolve(process.argv[2] ?? join(__dirname, '..', 'examples', 'data'));

// --- deterministic randomness ------------------------------------------------------------------
const random = mulberry32(0xb100b175);
const int = (n: number) => Math.floor(random() * n); // 0..n-1
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
const chance = (p: number) => random() < p;
/** A token amount: mostly 18-decimal values of a few units to a few million. */
const amount = (): bigint => BigInt(1 + int(5_000_000)) * 10n ** BigInt(12 + int(7)) + BigInt(int(1_000_000));

// --- names -------------------------------------------------------------------------------------

const utf8 = (s: string) => new TextEncoder().encode(s);
const sig = (signature: string): Hex => bytesToHex(keccak_256(utf8(signature)));

const TOPICS = {
  Transfer: sig('Transfer(address,address,uint256)'),
  Approval: sig('Approval(address,address,uint256)'),
  ApprovalForAll: sig('ApprovalForAll(address,address,bool)'),
  Swap: sig('Swap(address,uint256,uint256,uint256,uint256,address)'),
  Sync: sig('Sync(uint112,uint112)'),
  Deposit: sig('Deposit(address,uint256)'),
  Withdrawal: sig('Withdrawal(address,uint256)'),
} satisfies Record<string, Hex>;
if (TOPICS.Transfer !== '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef') {
  throw new Error('keccak mismatch for the ERC-20 Transfer signature');
}

const TOKEN_NAMES = ['RXT', 'BLM', 'SEC', 'WETH'] as const;
const CONTRACT_NAMES = [...TOKEN_NAMES, 'PAIR_RXT_WETH', 'NFT', 'MISC'] as const;
type ContractName = (typeof CONTRACT_NAMES)[number];

const NAMED_USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'] as const;
/** Users that appear in event parameters: named ones, anonymous ones, derived from a label. */
const users: Record<string, Hex> = {};
for (const name of NAMED_USERS)
  users[name] = bytesToHex(keccak_256(utf8(`rx-bloombits user ${name}`)).slice(12));
for (let i = 0; i < 18; i++)
  users[`user${i}`] = bytesToHex(keccak_256(utf8(`rx-bloombits user ${i}`)).slice(12));
const USER_LIST = Object.values(users);
const ZERO_ADDRESS: Hex = `0x${'00'.repeat(20)}`;

// --- event builders ----------------------------------------------------------------------------

const transfer = (from: Hex, to: Hex, value: bigint): EmitLog => ({
  topics: [TOPICS.Transfer, padAddress(from), padAddress(to)],
  data: uint256(value),
});
const approval = (owner: Hex, spender: Hex, value: bigint): EmitLog => ({
  topics: [TOPICS.Approval, padAddress(owner), padAddress(spender)],
  data: uint256(value),
});
const concat = (...words: Hex[]): Hex => `0x${words.map((w) => w.slice(2)).join('')}`;

interface Plan {
  contracts: Record<ContractName, Hex>;
  senders: Hex[];
}

/** One transaction's worth of logs of one contract, picked at random. */
function randomTx(plan: Plan, heavy: boolean): EmitTx {
  const from = pick(plan.senders);
  const kind = int(100);
  const nLogs = heavy ? 3 + int(10) : 1 + int(3);
  const logs: EmitLog[] = [];
  if (kind < 50) {
    // ERC-20 transfers (and the odd approval) of one token
    const token = pick(TOKEN_NAMES);
    for (let i = 0; i < nLogs; i++) {
      if (chance(0.12))
        logs.push(approval(pick(USER_LIST), pick(USER_LIST), chance(0.3) ? (1n << 256n) - 1n : amount()));
      else logs.push(transfer(chance(0.05) ? ZERO_ADDRESS : pick(USER_LIST), pick(USER_LIST), amount()));
    }
    if (token === 'WETH' && chance(0.4)) {
      const who = pick(USER_LIST);
      logs.push({
        topics: [chance(0.5) ? TOPICS.Deposit : TOPICS.Withdrawal, padAddress(who)],
        data: uint256(amount()),
      });
    }
    return { contract: plan.contracts[token], logs, from };
  }
  if (kind < 75) {
    // a Uniswap-V2-like swap: Sync (1 topic), Swap (3 topics), sometimes an LP token Transfer
    const pair = plan.contracts.PAIR_RXT_WETH;
    const swaps = heavy ? 2 + int(5) : 1;
    for (let i = 0; i < swaps; i++) {
      const to = pick(USER_LIST);
      const buy = chance(0.5);
      const a = amount();
      const b = amount();
      logs.push({ topics: [TOPICS.Sync], data: concat(uint256(amount()), uint256(amount())) });
      logs.push({
        topics: [TOPICS.Swap, padAddress(pick(USER_LIST)), padAddress(to)],
        data: concat(
          uint256(buy ? a : 0n),
          uint256(buy ? 0n : a),
          uint256(buy ? 0n : b),
          uint256(buy ? b : 0n),
        ),
      });
      if (chance(0.2)) logs.push(transfer(ZERO_ADDRESS, to, amount()));
    }
    return { contract: pair, logs, from };
  }
  if (kind < 90) {
    // ERC-721: Transfer with 4 topics (tokenId indexed), ApprovalForAll (3 topics, bool data)
    for (let i = 0; i < nLogs; i++) {
      if (chance(0.15)) {
        logs.push({
          topics: [TOPICS.ApprovalForAll, padAddress(pick(USER_LIST)), padAddress(pick(USER_LIST))],
          data: uint256(chance(0.8) ? 1 : 0),
        });
      } else {
        const tokenId = uint256(1 + int(10_000));
        logs.push({
          topics: [TOPICS.Transfer, padAddress(pick(USER_LIST)), padAddress(pick(USER_LIST)), tokenId],
        });
      }
    }
    return { contract: plan.contracts.NFT, logs, from };
  }
  // MISC: LOG0 with data, anonymous events (topic0 isn't a signature), up to 4 topics
  for (let i = 0; i < nLogs; i++) {
    const n = int(5);
    const topics: Hex[] = [];
    for (let t = 0; t < n; t++)
      topics.push(chance(0.5) ? padAddress(pick(USER_LIST)) : uint256(BigInt(int(1 << 30))));
    const data = bytesToHex(Uint8Array.from({ length: int(97) }, () => int(256)));
    logs.push({ topics, data });
  }
  return { contract: plan.contracts.MISC, logs, from };
}

/** The demo: BLM transfers to alice, the needle the demo filter looks for. */
function demoTx(plan: Plan): EmitTx {
  return {
    contract: plan.contracts.BLM,
    logs: [transfer(pick(USER_LIST), users.alice!, amount())],
    from: pick(plan.senders),
  };
}

/** Which blocks carry events, and how. */
function planBlocks(firstFree: number): Map<number, 'normal' | 'heavy' | 'demo'> {
  const blocks = new Map<number, 'normal' | 'heavy' | 'demo'>();
  const span = TO_BLOCK - firstFree + 1;
  while (blocks.size < 380) blocks.set(firstFree + int(span), 'normal');
  // three bursts of busy consecutive blocks, one per section
  for (const start of [1500, 6000, 9300]) for (let n = start; n < start + 16; n++) blocks.set(n, 'normal');
  // a dozen blocks with many logs
  for (let i = 0; i < 12; i++) blocks.set(firstFree + int(span), 'heavy');
  // the demo needle: ~30 blocks spread over all sections, a few in the unindexed tail
  for (let i = 0; i < 26; i++) blocks.set(firstFree + int(3 * SECTION - firstFree), 'demo');
  for (let i = 0; i < 4; i++) blocks.set(3 * SECTION + int(512), 'demo');
  return blocks;
}

// --- main --------------------------------------------------------------------------------------

async function main() {
  const t0 = Date.now();
  const chain = await startChain({
    automine: false,
    seed: 'rx-bloombits',
    time: new Date(GENESIS_TIME * 1000),
  });
  try {
    const contracts = {} as Record<ContractName, Hex>;
    for (const name of CONTRACT_NAMES) {
      contracts[name] = await chain.deploy({ timestamp: timestampOf((await chain.blockNumber()) + 1) });
    }
    const plan: Plan = { contracts, senders: chain.accounts };
    const blocks = planBlocks((await chain.blockNumber()) + 1);

    let expectedLogs = 0;
    let next = (await chain.blockNumber()) + 1;
    while (next <= TO_BLOCK) {
      const kind = blocks.get(next);
      if (kind === undefined) {
        let run = 1;
        while (next + run <= TO_BLOCK && !blocks.has(next + run)) run++;
        await chain.mine(run, { timestamp: timestampOf(next), spacing: BLOCK_TIME });
        next += run;
        continue;
      }
      const txs: EmitTx[] = [];
      const nTx = kind === 'heavy' ? 8 + int(6) : 1 + int(kind === 'demo' ? 3 : 5);
      for (let i = 0; i < nTx; i++) txs.push(randomTx(plan, kind === 'heavy'));
      if (kind === 'demo') txs.splice(int(txs.length + 1), 0, demoTx(plan));
      const mined = await chain.emitBlock(txs, timestampOf(next));
      if (mined.number !== next) throw new Error(`expected block ${next}, mined ${mined.number}`);
      expectedLogs += txs.reduce((s, tx) => s + tx.logs.length, 0);
      next++;
    }
    const tMined = Date.now();

    // headers, batched
    const headers: RpcBlock[] = [];
    const BATCH = 500;
    for (let from = 0; from <= TO_BLOCK; from += BATCH) {
      const calls = [];
      for (let n = from; n < Math.min(from + BATCH, TO_BLOCK + 1); n++) {
        calls.push({ method: 'eth_getBlockByNumber', params: [`0x${n.toString(16)}`, false] });
      }
      headers.push(...(await rpcBatch<RpcBlock>(chain.url, calls)));
    }
    const logs = await chain.getLogs({ fromBlock: '0x0', toBlock: `0x${TO_BLOCK.toString(16)}` });
    logs.sort(
      (a, b) => Number(a.blockNumber) - Number(b.blockNumber) || Number(a.logIndex) - Number(b.logIndex),
    );

    // sanity checks
    if (logs.length !== expectedLogs)
      throw new Error(`emitted ${expectedLogs} logs, eth_getLogs gave ${logs.length}`);
    const withLogs = new Set(logs.map((l) => Number(l.blockNumber)));
    headers.forEach((h, n) => {
      if (Number(h.number) !== n) throw new Error(`header ${n} has number ${h.number}`);
      if (n > 0 && h.parentHash !== headers[n - 1]!.hash) throw new Error(`broken parent link at ${n}`);
      if (/^0x0*$/.test(h.logsBloom) === withLogs.has(n)) throw new Error(`bloom/logs mismatch at ${n}`);
    });

    const demoFilter = {
      address: contracts.BLM,
      topics: [TOPICS.Transfer, null, padAddress(users.alice!)],
      fromBlock: '0x0',
      toBlock: `0x${TO_BLOCK.toString(16)}`,
    };
    const demoLogs = logs.filter(
      (l) =>
        l.address === demoFilter.address &&
        l.topics[0] === demoFilter.topics[0] &&
        l.topics[2] === demoFilter.topics[2] &&
        l.topics.length >= 3,
    );
    const topicCounts = [0, 0, 0, 0, 0];
    for (const l of logs) topicCounts[l.topics.length]!++;

    const meta = {
      blocks: TO_BLOCK + 1,
      fromBlock: 0,
      toBlock: TO_BLOCK,
      sectionSize: SECTION,
      blocksWithLogs: withLogs.size,
      logs: logs.length,
      logsByTopicCount: topicCounts,
      contracts,
      topics: TOPICS,
      users,
      senders: chain.accounts,
      demoFilter,
      demoExpected: {
        logs: demoLogs.length,
        blocks: [...new Set(demoLogs.map((l) => Number(l.blockNumber)))],
      },
      generatedBy:
        'scripts/make-sample-chain.ts: ganache 7.9.2 in-process, wallet seed "rx-bloombits", ' +
        `genesis ${new Date(GENESIS_TIME * 1000).toISOString()}, ${BLOCK_TIME}s blocks`,
    };

    mkdirSync(OUT_DIR, { recursive: true });
    const headerLines = headers.map((h) =>
      JSON.stringify({
        number: h.number,
        hash: h.hash,
        parentHash: h.parentHash,
        logsBloom: h.logsBloom,
        timestamp: h.timestamp,
      }),
    );
    const logLines = logs.map((l: Log) => JSON.stringify(l));
    const write = (name: string, data: string | Uint8Array) => {
      writeFileSync(join(OUT_DIR, name), data);
      return `${name} ${(data.length / 1024).toFixed(0)} KiB`;
    };
    const gz = (lines: string[]) => gzipSync(`${lines.join('\n')}\n`, { level: 9 });
    const written = [
      write('sample-headers.ndjson.gz', gz(headerLines)),
      write('sample-logs.ndjson.gz', gz(logLines)),
      write('sample-meta.json', `${JSON.stringify(meta, null, 2)}\n`),
    ];
    const t1 = Date.now();
    process.stdout.write(
      `blocks 0..${TO_BLOCK}, ${withLogs.size} with logs, ${logs.length} logs (by topic count ${topicCounts.join('/')}); ` +
        `demo filter: ${demoLogs.length} logs in ${meta.demoExpected.blocks.length} blocks\n` +
        `${written.join(', ')}\nmined in ${((tMined - t0) / 1000).toFixed(1)} s, total ${((t1 - t0) / 1000).toFixed(1)} s\n`,
    );
  } finally {
    await chain.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
