import type { Observable } from 'rxjs';
import { InvalidOptionError, SourceError } from '../errors.js';
import { fromAsync } from '../operators/fromAsync.js';
import { parseBlockRange } from '../types/blockNumber.js';
import type { BlockHeader, BlockNumberInput } from '../types/chain.js';
import type { RetryInfo } from './jsonRpc.js';
import { parseHeaderJson } from './parseHeaderJson.js';
import { describeEndpoint, isProvider, type RpcCaller, type RpcEndpoint, rpcCaller } from './provider.js';
import { parseQuantity, toQuantity } from './quantity.js';

/** Options of {@link rpcHeaders}. */
export interface RpcHeadersOptions {
  /** First block (default 0). */
  fromBlock?: BlockNumberInput;
  /** Last block, inclusive (default `'latest'`, resolved once with `eth_blockNumber` on subscribe). */
  toBlock?: BlockNumberInput;
  /**
   * `eth_getBlockByNumber` calls per JSON-RPC batch (default 100 with a URL; with a provider,
   * default 10 `request` calls at once per batch).
   */
  batchSize?: number;
  /** Batches in flight at once (default 4). */
  concurrency?: number;
  /** Retries of a transient failure (default 5). */
  retries?: number;
  /** First backoff delay in ms, doubling per retry (default 250). */
  retryDelayMs?: number;
  /** The fetch implementation (default: global `fetch`). */
  fetch?: typeof fetch;
  /** Milliseconds one JSON-RPC attempt may take before it is retried (default 30 000). */
  timeoutMs?: number;
  /** Called before each backoff wait of a transient failure. */
  onRetry?: (info: RetryInfo) => void;
}

/** Default `eth_getBlockByNumber` calls per batch with a provider (its own requests, not an HTTP batch). */
export const DEFAULT_PROVIDER_BATCH_SIZE = 10;

/** Default `eth_getBlockByNumber` calls per batch. */
export const DEFAULT_RPC_BATCH_SIZE = 100;
/** Default JSON-RPC batches in flight. */
export const DEFAULT_RPC_CONCURRENCY = 4;

/**
 * Headers of a block range from a JSON-RPC node (a URL, or your EIP-1193 provider: a viem
 * client, a wallet, ganache; retries, timeouts and batching are then the provider's own),
 * in ascending order: batched
 * `eth_getBlockByNumber(n, false)`, a bounded number of batches in flight, transient failures
 * retried with backoff. Cold: subscribing starts the requests, unsubscribing aborts them.
 * Errors: {@link SourceError} (HTTP, JSON-RPC, malformed block, block not found),
 * InvalidRangeError for a bad or reversed range.
 * Headers go out in bursts of at most {@link EMIT_BURST}, with a turn of the event loop in
 * between: a downstream `concatMap` whose inners finish promptly then never holds a backlog
 * long enough to recurse its way into a stack overflow.
 * @throws InvalidOptionError at call time when `batchSize`, `concurrency`, `retries` or
 * `timeoutMs` is not valid.
 * @example
 * ```ts
 * rpcHeaders('https://eth.example/rpc', { fromBlock: 0, toBlock: 99_999, batchSize: 200 })
 *   .subscribe((header) => console.log(header.number, header.hash));
 * rpcHeaders(viemClient, { fromBlock: 19_000_000 }); // an EIP-1193 provider works too
 * ```
 */
export function rpcHeaders(endpoint: RpcEndpoint, options: RpcHeadersOptions = {}): Observable<BlockHeader> {
  const batchSize = count(
    options.batchSize ?? (isProvider(endpoint) ? DEFAULT_PROVIDER_BATCH_SIZE : DEFAULT_RPC_BATCH_SIZE),
    'batchSize',
    1,
  );
  const concurrency = count(options.concurrency ?? DEFAULT_RPC_CONCURRENCY, 'concurrency', 1);
  if (options.retries !== undefined) count(options.retries, 'retries', 0);
  const call = rpcCaller(endpoint, {
    fetch: options.fetch,
    retries: options.retries,
    retryDelayMs: options.retryDelayMs,
    timeoutMs: options.timeoutMs,
    onRetry: options.onRetry,
  });

  return fromAsync<BlockHeader>(async (emit, signal) => {
    // One controller for every batch of this subscription: an error in one batch cancels the others.
    const inner = new AbortController();
    const onAbort = (): void => inner.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const range = { fromBlock: options.fromBlock ?? 0, toBlock: options.toBlock ?? 'latest' };
      let latest: number | undefined;
      if (range.fromBlock === 'latest' || range.toBlock === 'latest') {
        latest = await blockNumber(call, inner.signal);
      }
      const { fromBlock, toBlock } = parseBlockRange(range, latest);
      const fetcher = { call, name: describeEndpoint(endpoint), batchSize, concurrency };
      await emitRange(fetcher, fromBlock, toBlock, emit, inner.signal);
    } finally {
      signal.removeEventListener('abort', onAbort);
      inner.abort();
    }
  });
}

/** How {@link emitRange} fetches: the caller, a name for messages, and its batching. */
export interface HeaderFetcher {
  call: RpcCaller;
  name: string;
  batchSize: number;
  concurrency: number;
}

/** The node's head block number (`eth_blockNumber`). */
export async function blockNumber(call: RpcCaller, signal: AbortSignal): Promise<number> {
  const [head] = await call([{ method: 'eth_blockNumber', params: [] }], signal);
  return parseQuantity(head, 'eth_blockNumber result');
}

/**
 * Fetches and emits the headers `fromBlock..toBlock` in order. Batches start in order and are
 * emitted in order; at most `concurrency` are pending (in flight or finished but waiting for an
 * earlier one), which bounds memory too. Returns early once `signal` aborts.
 */
export async function emitRange(
  f: HeaderFetcher,
  fromBlock: number,
  toBlock: number,
  emit: (header: BlockHeader) => void,
  signal: AbortSignal,
): Promise<void> {
  const pending: Promise<BlockHeader[]>[] = [];
  let next = fromBlock;
  const startBatch = (): void => {
    const last = Math.min(next + f.batchSize - 1, toBlock);
    const batch = fetchBatch(f, next, last, signal);
    batch.catch(() => {}); // observed when its turn comes; avoids an unhandled rejection meanwhile
    pending.push(batch);
    next = last + 1;
  };
  while (pending.length < f.concurrency && next <= toBlock) startBatch();
  while (pending.length > 0) {
    const headers = await pending.shift()!;
    if (next <= toBlock) startBatch();
    for (let i = 0; i < headers.length; i++) {
      if (i > 0 && i % EMIT_BURST === 0) await nextTurn();
      if (signal.aborted) return;
      emit(headers[i]!);
    }
  }
}

async function fetchBatch(f: HeaderFetcher, first: number, last: number, signal: AbortSignal) {
  const calls = [];
  for (let n = first; n <= last; n++)
    calls.push({ method: 'eth_getBlockByNumber', params: [toQuantity(n), false] });
  const results = await f.call(calls, signal);
  const url = f.name;
  return results.map((block, i) => {
    const n = first + i;
    if (block === null || block === undefined) throw new SourceError(`block ${n} not found at ${url}`);
    let header: BlockHeader;
    try {
      header = parseHeaderJson(block);
    } catch (err) {
      throw new SourceError(`block ${n} from ${url}: ${(err as Error).message}`, false, { cause: err });
    }
    if (header.number !== n) throw new SourceError(`asked ${url} for block ${n}, got block ${header.number}`);
    return header;
  });
}

/** Headers emitted synchronously in a row at most. */
export const EMIT_BURST = 256;

/** Node's setImmediate where it exists (no 1 ms clamp), else a timer: browsers have no setImmediate. */
const macrotask: (f: () => void) => void =
  typeof setImmediate === 'function' ? setImmediate : (f) => void setTimeout(f, 0);

/** Resolves after the microtasks queued so far (and I/O callbacks) ran. */
const nextTurn = (): Promise<void> => new Promise((resolve) => macrotask(resolve));

export function count(value: number, name: string, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new InvalidOptionError(name, `must be an integer >= ${min}, got ${value}`);
  }
  return value;
}
