import { BlockNotFoundError, SourceError } from '../errors.js';
import { fromAsync } from '../operators/fromAsync.js';
import type { BlockHeader, Log } from '../types/chain.js';
import type { Hex } from '../types/hex.js';
import { isMethodNotFound, type RetryInfo } from './jsonRpc.js';
import { parseHeaderJson } from './parseHeaderJson.js';
import { parseLogJson, sortByLogIndex } from './parseLogJson.js';
import { type RpcEndpoint, rpcCaller } from './provider.js';
import { toQuantity } from './quantity.js';
import type { LogsSource } from './types.js';

/** Options of {@link rpcReceipts}. */
export interface RpcReceiptsOptions {
  /** The fetch implementation (default: global `fetch`). */
  fetch?: typeof fetch;
  /** Retries of a transient failure (default 5). */
  retries?: number;
  /** First backoff delay in ms, doubling per retry (default 250). */
  retryDelayMs?: number;
  /** Milliseconds one JSON-RPC attempt may take before it is retried (default 30 000). */
  timeoutMs?: number;
  /** Called before each backoff wait of a transient failure. */
  onRetry?: (info: RetryInfo) => void;
}

/**
 * A {@link LogsSource} backed by a JSON-RPC node (a URL, or your EIP-1193 provider: a viem
 * client, a wallet, ganache; retries, timeouts and batching are then the provider's own):
 * `eth_getBlockReceipts(number)` with the
 * receipts' logs flattened. When the node does not implement that method, it falls back to
 * `eth_getLogs({ blockHash })` (or `{ fromBlock: n, toBlock: n }` without a hash), batched with
 * a block lookup so an unknown block is an error rather than "no logs", and keeps using the
 * fallback for later calls. With `hash`, answers of another block hash are rejected.
 * Each call is cold and cancellable (unsubscribing aborts the request).
 * Errors: {@link SourceError} (HTTP, JSON-RPC, malformed answer); {@link BlockNotFoundError} (a
 * SourceError) when the node has no such block, or another block than the hash asked for.
 * @example
 * ```ts
 * const receipts = rpcReceipts('https://eth.example/rpc');
 * receipts({ number: 19_000_000 }).subscribe((logs) => console.log(logs.length, 'logs'));
 * index.logs(filter, range, { receipts }); // its usual use
 * ```
 */
export function rpcReceipts(endpoint: RpcEndpoint, options: RpcReceiptsOptions = {}): LogsSource {
  const call = rpcCaller(endpoint, options);
  let useGetLogs = false; // set once the node says it has no eth_getBlockReceipts
  return ({ number, hash }) =>
    fromAsync<Log[]>(async (emit, signal) => {
      if (!useGetLogs) {
        try {
          const [receipts] = await call(
            [{ method: 'eth_getBlockReceipts', params: [toQuantity(number)] }],
            signal,
          );
          emit(logsOfReceipts(receipts, number, hash));
          return;
        } catch (err) {
          if (!isMethodNotFound(err)) throw err;
          useGetLogs = true;
        }
      }
      const filter =
        hash !== undefined
          ? { blockHash: hash }
          : { fromBlock: toQuantity(number), toBlock: toQuantity(number) };
      // Some nodes answer [] for an unknown block: ask for the block in the same batch to tell
      // "no logs" from "no such block" (or a reorged-out hash).
      const block =
        hash !== undefined
          ? { method: 'eth_getBlockByHash', params: [hash, false] }
          : { method: 'eth_getBlockByNumber', params: [toQuantity(number), false] };
      const [logs, header] = await call([{ method: 'eth_getLogs', params: [filter] }, block], signal);
      checkBlock(header, number, hash);
      if (!Array.isArray(logs))
        throw new SourceError(`eth_getLogs for block ${number}: result is not an array`);
      emit(checked(logs.map(parseLogJson), number, hash));
    });
}

function checkBlock(header: unknown, number: number, hash: Hex | undefined): void {
  const what = `block ${number}${hash ? ` (${hash})` : ''}`;
  if (header === null || typeof header !== 'object')
    throw new BlockNotFoundError(`${what} not found`, number, hash);
  let got: BlockHeader;
  try {
    got = parseHeaderJson(header);
  } catch (err) {
    throw new SourceError(`${what}: ${(err as Error).message}`, false, { cause: err });
  }
  if (got.number !== number) throw new SourceError(`${what} is block ${got.number} at the node`);
}

function logsOfReceipts(receipts: unknown, number: number, hash: Hex | undefined): Log[] {
  if (receipts === null) {
    throw new BlockNotFoundError(`eth_getBlockReceipts: block ${number} not found`, number, hash);
  }
  if (!Array.isArray(receipts))
    throw new SourceError(`eth_getBlockReceipts for block ${number}: not an array`);
  const logs: Log[] = [];
  for (const receipt of receipts as Record<string, unknown>[]) {
    if (typeof receipt !== 'object' || receipt === null || !Array.isArray(receipt.logs)) {
      throw new SourceError(`eth_getBlockReceipts for block ${number}: a receipt has no logs array`);
    }
    if (hash !== undefined && String(receipt.blockHash).toLowerCase() !== hash.toLowerCase()) {
      throw new BlockNotFoundError(
        `block ${number} is ${String(receipt.blockHash)} at the node, not ${hash}`,
        number,
        hash,
      );
    }
    for (const log of receipt.logs) logs.push(parseLogJson(log));
  }
  return checked(logs, number, hash);
}

// Sorted, and every log really from the block asked for (a reorg between calls must not slip through).
function checked(logs: Log[], number: number, hash: Hex | undefined): Log[] {
  const n = toQuantity(number);
  for (const log of logs) {
    if (log.blockNumber !== n || (hash !== undefined && log.blockHash !== hash.toLowerCase())) {
      throw new BlockNotFoundError(
        `asked for block ${number} ${hash ?? ''}, got a log of ${log.blockNumber} ${log.blockHash}`,
        number,
        hash,
      );
    }
  }
  return sortByLogIndex(logs);
}
