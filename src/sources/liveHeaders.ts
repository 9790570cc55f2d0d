import type { Observable, SchedulerLike } from 'rxjs';
import { InvalidOptionError } from '../errors.js';
import { fromAsync } from '../operators/fromAsync.js';
import { parseBlockNumber } from '../types/blockNumber.js';
import type { BlockHeader, BlockNumberInput } from '../types/chain.js';
import {
  describeEndpoint,
  type Eip1193Provider,
  isProvider,
  type RpcEndpoint,
  rpcCaller,
} from './provider.js';
import {
  blockNumber,
  count,
  DEFAULT_PROVIDER_BATCH_SIZE,
  DEFAULT_RPC_BATCH_SIZE,
  DEFAULT_RPC_CONCURRENCY,
  emitRange,
  type RpcHeadersOptions,
} from './rpcHeaders.js';
import { sleep } from './sleep.js';

/** Options of {@link liveHeaders}. */
export interface LiveHeadersOptions extends Omit<RpcHeadersOptions, 'toBlock' | 'fromBlock'> {
  /** First block (default `'latest'`: the head when subscribed, then every new one). */
  fromBlock?: BlockNumberInput;
  /** Milliseconds between `eth_blockNumber` polls (default 4000). With a subscription, the fallback. */
  pollIntervalMs?: number;
  /** Runs the poll timer (default: plain `setTimeout`). */
  scheduler?: SchedulerLike;
  /** Try `eth_subscribe('newHeads')` on a provider with `on` (default true). */
  subscribe?: boolean;
}

/** Default milliseconds between head polls. */
export const DEFAULT_POLL_INTERVAL_MS = 4000;

/**
 * Headers from `fromBlock` on, forever: the blocks up to the head, then each new one as the
 * chain grows, in ascending order with no gap (missing numbers are fetched, so consecutive
 * headers link unless the chain reorganised, which the indexer detects and handles by
 * subscribing again from lower). New heads are noticed from `eth_subscribe('newHeads')`
 * notifications when the provider supports them (tried once; any failure falls back), else by
 * polling `eth_blockNumber` every `pollIntervalMs`. Never completes; unsubscribing aborts the
 * requests, clears the timer and unsubscribes from the node.
 * Errors: {@link SourceError} (as {@link rpcHeaders}), InvalidRangeError for a bad `fromBlock`.
 * @throws InvalidOptionError at call time for a bad option.
 * @example
 * ```ts
 * // Keep an index up to date until unsubscribed.
 * index.indexHeaders((from) => liveHeaders(url, { fromBlock: from, pollIntervalMs: 12_000 })).subscribe();
 * ```
 */
export function liveHeaders(
  endpoint: RpcEndpoint,
  options: LiveHeadersOptions = {},
): Observable<BlockHeader> {
  const provider = isProvider(endpoint) ? endpoint : undefined;
  const batchSize = count(
    options.batchSize ?? (provider ? DEFAULT_PROVIDER_BATCH_SIZE : DEFAULT_RPC_BATCH_SIZE),
    'batchSize',
    1,
  );
  const concurrency = count(options.concurrency ?? DEFAULT_RPC_CONCURRENCY, 'concurrency', 1);
  if (options.retries !== undefined) count(options.retries, 'retries', 0);
  const interval = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  if (!(typeof interval === 'number' && interval > 0 && interval < 2 ** 31)) {
    throw new InvalidOptionError(
      'pollIntervalMs',
      `must be a positive number of milliseconds, got ${interval}`,
    );
  }
  const call = rpcCaller(endpoint, options);
  const fetcher = { call, name: describeEndpoint(endpoint), batchSize, concurrency };

  return fromAsync<BlockHeader>(async (emit, signal) => {
    let wake: (() => void) | undefined;
    const notified = (): void => wake?.();
    const unsubscribe =
      provider && options.subscribe !== false ? await subscribeHeads(provider, signal, notified) : undefined;
    try {
      const head0 = await blockNumber(call, signal);
      let next = parseBlockNumber(options.fromBlock ?? 'latest', head0);
      let head = head0;
      for (;;) {
        if (head >= next) {
          await emitRange(fetcher, next, head, emit, signal);
          if (signal.aborted) return;
          next = head + 1;
        }
        await new Promise<void>((resolve, reject) => {
          wake = resolve;
          wait(interval, options.scheduler, signal).then(resolve, reject);
        });
        wake = undefined;
        head = await blockNumber(call, signal);
      }
    } finally {
      wake = undefined;
      unsubscribe?.();
    }
  });
}

/** Waits `ms` on `scheduler` (or a plain timer); rejects with the reason when `signal` aborts. */
function wait(ms: number, scheduler: SchedulerLike | undefined, signal: AbortSignal): Promise<void> {
  if (!scheduler) return sleep(ms, signal);
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      task.unsubscribe();
      reject(signal.reason);
    };
    const task = scheduler.schedule(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Subscribes to `newHeads` and calls `notify` on each notification; resolves to the undo, or
 * undefined when the provider cannot (no `on`, or `eth_subscribe` fails: polling then).
 */
async function subscribeHeads(
  provider: Eip1193Provider,
  signal: AbortSignal,
  notify: () => void,
): Promise<(() => void) | undefined> {
  if (typeof provider.on !== 'function') return undefined;
  let id: unknown;
  try {
    id = await provider.request({ method: 'eth_subscribe', params: ['newHeads'] });
  } catch {
    return undefined;
  }
  if (typeof id !== 'string') return undefined;
  const ours = (m: unknown): boolean => {
    const o = m as { data?: { subscription?: unknown }; params?: { subscription?: unknown } } | null;
    return o?.data?.subscription === id || o?.params?.subscription === id;
  };
  // EIP-1193 'message' ({ type, data: { subscription, result } }); legacy 'data' (error, payload).
  const onMessage = (m: unknown): void => {
    if (ours(m)) notify();
  };
  const onData = (_e: unknown, m: unknown): void => {
    if (ours(m)) notify();
  };
  provider.on('message', onMessage as never);
  provider.on('data', onData as never);
  const undo = (): void => {
    provider.removeListener?.('message', onMessage as never);
    provider.removeListener?.('data', onData as never);
    provider.request({ method: 'eth_unsubscribe', params: [id] }).catch(() => {});
  };
  if (signal.aborted) {
    undo();
    return undefined;
  }
  return undo;
}
