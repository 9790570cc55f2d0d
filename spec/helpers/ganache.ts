/**
 * An in-process ganache chain for tests and sample data: an HTTP JSON-RPC endpoint on 127.0.0.1
 * (random port), funded accounts, and helpers to deploy the emitter contract, emit logs in known
 * blocks, mine, snapshot and revert (for reorgs).
 *
 * Two ways to place logs:
 * - `automine: true` (default): every transaction is mined at once in its own block
 *   (instamine "eager"), so `emit` resolves when its block exists.
 * - `emitBlock([...])` (either mode): all the given transactions go into ONE new block, in order.
 *   With `automine: false` nothing is mined until `mine`/`emitBlock`, and blocks get the timestamps
 *   you pass, which makes the chain reproducible.
 */
import ganache from 'ganache';
import type { Log } from '../../src/types/chain.js';
import type { Hex } from '../../src/types/hex.js';
import { type EmitLog, emitterInitCode, encodeEmitCall } from './emitter.js';

/** The slice of an EIP-1193 provider these helpers use. */
export interface RpcProvider {
  request(args: { method: string; params?: unknown[] | object }): Promise<unknown>;
}

export interface StartChainOptions {
  /** Wallet seed (accounts and keys derive from it). Default `'rx-bloombits'`. */
  seed?: string;
  /** Number of funded accounts. Default 10. */
  accounts?: number;
  /** Genesis time. Default 2024-01-01T00:00:00Z. */
  time?: Date;
  /** Mine each transaction in its own block as it arrives. Default true. */
  automine?: boolean;
  /** Block gas limit. Default 30,000,000. */
  gasLimit?: number;
}

export interface EmitTx {
  /** Emitter contract address. */
  contract: Hex;
  logs: readonly EmitLog[];
  /** Sender (one of `accounts`). Default `accounts[0]`. */
  from?: Hex;
}

export interface MinedBlock {
  number: number;
  hash: Hex;
  txHashes: Hex[];
}

/** A JSON-RPC block object as ganache returns it (`transactions` are hashes here). */
export interface RpcBlock {
  number: Hex;
  hash: Hex;
  parentHash: Hex;
  logsBloom: Hex;
  timestamp: Hex;
  transactions: Hex[];
  [field: string]: unknown;
}

export interface Chain {
  /** `http://127.0.0.1:<port>` */
  url: string;
  provider: RpcProvider;
  /** Funded, unlocked accounts (lowercase hex). */
  accounts: Hex[];
  /** Typed shortcut for `provider.request`. */
  request<T = unknown>(method: string, params?: unknown[]): Promise<T>;
  /**
   * Deploys a fresh emitter contract, mined at once in its own block (with automine off: with any
   * pending transactions, at `timestamp` seconds when given); resolves to its address.
   */
  deploy(opts?: { from?: Hex; timestamp?: number }): Promise<Hex>;
  /**
   * Sends one emitter call. With automine it is mined (alone) before this resolves; without, it
   * waits in the pool for the next `mine`.
   */
  emit(contract: Hex, logs: readonly EmitLog[], from?: Hex): Promise<Hex>;
  /**
   * Mines exactly one new block holding `txs` in order (all must succeed), plus anything already
   * pending. `timestamp` (seconds) needs automine off; with automine on the block gets the clock time.
   */
  emitBlock(txs: readonly EmitTx[], timestamp?: number): Promise<MinedBlock>;
  /**
   * Mines `blocks` blocks (pending transactions go into the first). With `timestamp` (seconds),
   * block i gets `timestamp + i * spacing` (spacing default 12).
   */
  mine(blocks: number, opts?: { timestamp?: number; spacing?: number }): Promise<void>;
  /**
   * Turns instant mining on or off. Turning it on mines one block at once, as ganache's
   * `miner_start` does: the pending transactions, or an empty block when there are none.
   */
  setAutomine(on: boolean): Promise<void>;
  blockNumber(): Promise<number>;
  getBlock(number: number | 'latest'): Promise<RpcBlock>;
  getLogs(filter: Record<string, unknown>): Promise<Log[]>;
  /** Saves the current state; `revert(id)` goes back to it (the id is single-use, as in ganache). */
  snapshot(): Promise<string>;
  revert(id: string): Promise<void>;
  /** Stops the HTTP server and the chain. Safe to call twice. */
  close(): Promise<void>;
}

const GWEI = 1_000_000_000n;
const DEFAULT_TIME = new Date('2024-01-01T00:00:00Z');

/** Gas for one emitter call: an upper bound of its real cost (unused gas is refunded). */
export function emitGas(logs: readonly EmitLog[], calldata: Hex): number {
  let gas = 21_000 + 2_000;
  for (let i = 2; i < calldata.length; i += 2) gas += calldata.slice(i, i + 2) === '00' ? 4 : 16;
  let maxLen = 0;
  for (const log of logs) {
    const len = ((log.data ?? '0x').length - 2) / 2;
    maxLen = Math.max(maxLen, len);
    gas += 375 * (1 + log.topics.length) + 8 * len + 3 * Math.ceil(len / 32) + 300;
  }
  const words = Math.ceil(maxLen / 32);
  return gas + 3 * words + Math.ceil((words * words) / 512);
}

/** Starts a quiet in-process ganache listening on 127.0.0.1 at a free port. */
export async function startChain(options: StartChainOptions = {}): Promise<Chain> {
  let automine = options.automine ?? true;
  const server = ganache.server({
    logging: { quiet: true },
    wallet: { seed: options.seed ?? 'rx-bloombits', totalAccounts: options.accounts ?? 10 },
    chain: { time: options.time ?? DEFAULT_TIME },
    miner: {
      instamine: 'eager',
      blockGasLimit: options.gasLimit ?? 30_000_000,
    },
  });
  let closed = false;
  try {
    await server.listen(0, '127.0.0.1');
  } catch (err) {
    await server.close().catch(() => undefined);
    throw err;
  }
  const address = server.address() as { address: string; port: number };
  const url = `http://127.0.0.1:${address.port}`;
  const provider = server.provider as unknown as RpcProvider;
  const request = <T>(method: string, params: unknown[] = []) =>
    provider.request({ method, params }) as Promise<T>;
  if (!automine) await request('miner_stop');

  const accounts = ((await request<string[]>('eth_accounts')) as Hex[]).map((a) => a.toLowerCase() as Hex);
  const sender = (from: Hex | undefined): Hex => from ?? accounts[0]!;

  const receipt = async (txHash: Hex) => {
    const r = await request<{ status: Hex; contractAddress: Hex | null; blockNumber: Hex } | null>(
      'eth_getTransactionReceipt',
      [txHash],
    );
    if (!r) throw new Error(`no receipt for ${txHash}`);
    if (r.status !== '0x1') throw new Error(`transaction ${txHash} failed (status ${r.status})`);
    return r;
  };

  /** `tip` (wei): ganache orders a block's transactions by fee, so emitBlock sets descending tips. */
  const send = (contract: Hex, logs: readonly EmitLog[], from?: Hex, tip?: bigint) => {
    const data = encodeEmitCall(logs);
    const fees =
      tip === undefined
        ? {}
        : { maxFeePerGas: `0x${(100n * GWEI).toString(16)}`, maxPriorityFeePerGas: `0x${tip.toString(16)}` };
    return request<Hex>('eth_sendTransaction', [
      { from: sender(from), to: contract, data, gas: `0x${emitGas(logs, data).toString(16)}`, ...fees },
    ]);
  };

  const mine = async (blocks: number, opts: { timestamp?: number; spacing?: number } = {}) => {
    if (!Number.isInteger(blocks) || blocks < 0) throw new Error(`mine: bad block count ${blocks}`);
    if (blocks === 0) return;
    if (opts.timestamp === undefined) {
      await request('evm_mine', [{ blocks }]);
      return;
    }
    const spacing = opts.spacing ?? 12;
    for (let i = 0; i < blocks; i++) await request('evm_mine', [{ timestamp: opts.timestamp + i * spacing }]);
  };

  const noTimestampWithAutomine = (timestamp: number | undefined) => {
    if (timestamp !== undefined && automine) {
      throw new Error(
        'block timestamps need automine off (startChain({ automine: false }) or setAutomine(false))',
      );
    }
  };

  const setAutomine = async (on: boolean) => {
    await request(on ? 'miner_start' : 'miner_stop');
    automine = on;
  };

  const chain: Chain = {
    url,
    provider,
    accounts,
    request,

    async deploy(opts = {}) {
      noTimestampWithAutomine(opts.timestamp);
      const hash = await request<Hex>('eth_sendTransaction', [
        { from: sender(opts.from), data: emitterInitCode, gas: '0x493e0' },
      ]);
      if (!automine)
        await request('evm_mine', opts.timestamp === undefined ? [] : [{ timestamp: opts.timestamp }]);
      const r = await receipt(hash);
      if (!r.contractAddress) throw new Error(`deploy ${hash}: no contract address`);
      return r.contractAddress.toLowerCase() as Hex;
    },

    async emit(contract, logs, from) {
      const hash = await send(contract, logs, from);
      if (automine) await receipt(hash);
      return hash;
    },

    async emitBlock(txs, timestamp) {
      noTimestampWithAutomine(timestamp);
      if (automine) await request('miner_stop');
      const txHashes: Hex[] = [];
      try {
        for (const [i, tx] of txs.entries()) {
          txHashes.push(await send(tx.contract, tx.logs, tx.from, GWEI + BigInt(txs.length - i)));
        }
      } finally {
        // ganache's miner_start mines exactly one block with everything pending
        if (automine) await request('miner_start');
      }
      if (!automine) await request('evm_mine', timestamp === undefined ? [] : [{ timestamp }]);
      const block = await chain.getBlock('latest');
      const at = txHashes.map((h) => block.transactions.indexOf(h));
      for (const [i, h] of txHashes.entries()) {
        if (at[i]! < 0) throw new Error(`transaction ${h} not in block ${Number(block.number)}`);
        if (i > 0 && at[i]! < at[i - 1]!) throw new Error(`block ${Number(block.number)} reordered ${h}`);
        await receipt(h);
      }
      return { number: Number(block.number), hash: block.hash, txHashes };
    },

    mine,
    setAutomine,

    async blockNumber() {
      return Number(await request<Hex>('eth_blockNumber'));
    },

    async getBlock(number) {
      const tag = number === 'latest' ? number : `0x${number.toString(16)}`;
      const block = await request<RpcBlock | null>('eth_getBlockByNumber', [tag, false]);
      if (!block) throw new Error(`no block ${number}`);
      return block;
    },

    getLogs(filter) {
      return request<Log[]>('eth_getLogs', [filter]);
    },

    snapshot() {
      return request<string>('evm_snapshot');
    },

    async revert(id) {
      const ok = await request<boolean>('evm_revert', [id]);
      if (!ok) throw new Error(`evm_revert(${id}) failed`);
    },

    async close() {
      if (closed) return;
      closed = true;
      await server.close();
    },
  };
  return chain;
}

/** One JSON-RPC call over HTTP with global fetch; throws on an RPC error. */
export async function rpc<T = unknown>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  if (!res.ok) throw new Error(`${method}: HTTP ${res.status}`);
  const body = (await res.json()) as { result?: T; error?: { code: number; message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message} (${body.error.code})`);
  return body.result as T;
}

/**
 * A batch of JSON-RPC calls in one HTTP request (array body); results come back in call order.
 * Throws on the first RPC error.
 */
export async function rpcBatch<T = unknown>(
  url: string,
  calls: readonly { method: string; params?: unknown[] }[],
): Promise<T[]> {
  if (calls.length === 0) return [];
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(
      calls.map((c, id) => ({ jsonrpc: '2.0', id, method: c.method, params: c.params ?? [] })),
    ),
  });
  if (!res.ok) throw new Error(`batch: HTTP ${res.status}`);
  const body = (await res.json()) as { id: number; result?: T; error?: { code: number; message: string } }[];
  const out = new Array<T>(calls.length);
  for (const item of body) {
    if (item.error) throw new Error(`${calls[item.id]?.method}: ${item.error.message} (${item.error.code})`);
    out[item.id] = item.result as T;
  }
  return out;
}

/** A 32-byte topic holding a left-padded 20-byte address (as indexed `address` event params are). */
export function padAddress(address: Hex): Hex {
  const body = address.slice(2).toLowerCase();
  if (body.length !== 40) throw new Error(`not a 20-byte address: ${address}`);
  return `0x${body.padStart(64, '0')}`;
}

/** A 32-byte big-endian word of a non-negative integer (for uint256 data fields / topics). */
export function uint256(value: bigint | number): Hex {
  const v = BigInt(value);
  if (v < 0n || v >= 1n << 256n) throw new Error(`uint256 out of range: ${value}`);
  return `0x${v.toString(16).padStart(64, '0')}`;
}
