import { type BloomBitsErrorCode, InvalidOptionError, SourceError } from '../errors.js';
import { sleep } from './sleep.js';

/** One JSON-RPC call of a batch. */
export interface JsonRpcCall {
  method: string;
  params: readonly unknown[];
}

/** Transport options shared by every JSON-RPC source. */
export interface JsonRpcOptions {
  /** Aborts the request in flight and any backoff wait. */
  signal?: AbortSignal;
  /** The fetch implementation (default: global `fetch`). */
  fetch?: typeof fetch;
  /** Retries of a transient failure before giving up (default 5). */
  retries?: number;
  /** First backoff delay; doubles on each retry (default 250 ms). */
  retryDelayMs?: number;
  /**
   * Milliseconds one attempt may take, response body included, before it is abandoned as a
   * transient failure (and retried). Default 30 000.
   */
  timeoutMs?: number;
  /** Called before each backoff wait, e.g. to tell the user why nothing moves. */
  onRetry?: (info: RetryInfo) => void;
}

/** What {@link JsonRpcOptions.onRetry} is told before a backoff wait. */
export interface RetryInfo {
  /** The retry about to happen: 1 for the first. */
  attempt: number;
  /** Retries allowed in all. */
  retries: number;
  /** The wait before it, in ms. */
  delayMs: number;
  /** The transient failure being retried. */
  error: SourceError;
}

/** Default retries of a transient JSON-RPC failure. */
export const DEFAULT_RETRIES = 5;
/** Default first backoff delay in milliseconds. */
export const DEFAULT_RETRY_DELAY_MS = 250;
const MAX_RETRY_DELAY_MS = 30_000;
/** Default per-attempt timeout of a JSON-RPC request in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * A JSON-RPC error object returned by the node for one call. `code` is the library's stable
 * `'JSON_RPC'`; the node's numeric JSON-RPC error code is `rpcCode`.
 */
export class JsonRpcError extends SourceError {
  static override readonly code: BloomBitsErrorCode = 'JSON_RPC';
  override name = 'JsonRpcError';
  constructor(
    readonly method: string,
    /** The JSON-RPC error code the node answered (e.g. -32601), when it gave one. */
    readonly rpcCode: number | undefined,
    readonly rpcMessage: string,
    transient: boolean,
  ) {
    super(`${method} failed: JSON-RPC error ${rpcCode ?? '?'}: ${rpcMessage}`, transient);
  }
}

/**
 * True when an error says the node does not implement the method: code -32601, or a
 * "does not exist / not supported" message (ganache answers -32700 with such a message).
 */
export function isMethodNotFound(err: unknown): boolean {
  if (!(err instanceof JsonRpcError)) return false;
  return (
    err.rpcCode === -32601 ||
    /method .*(not found|does not exist|not supported|not available)|not supported|unsupported method/i.test(
      err.rpcMessage,
    )
  );
}

// Rate limits, overload and timeouts are worth retrying; anything else the node will say again.
const TRANSIENT_MESSAGE =
  /rate limit|limit exceeded|too many requests|timeout|timed out|temporar|unavailable|busy|try again|overloaded|capacity/i;

/** True for a JSON-RPC error worth retrying (rate limit, overload, timeout). */
export function isTransientRpcError(code: number | undefined, message: string): boolean {
  return code === -32005 || code === 429 || TRANSIENT_MESSAGE.test(message);
}

/**
 * Sends `calls` as one JSON-RPC batch (array body) and returns the results in call order.
 * Network errors, HTTP 408/429/5xx and transient-looking JSON-RPC errors are retried with
 * exponential backoff, and so is an attempt that takes longer than `timeoutMs`; the last failure
 * is a transient {@link SourceError}.
 * @throws JsonRpcError when the node answers a call with a (non-transient) error.
 * @throws SourceError on other HTTP errors or a malformed response.
 * Aborting `signal` rejects with the signal's reason.
 */
export async function jsonRpcBatch(
  url: string,
  calls: readonly JsonRpcCall[],
  options: JsonRpcOptions = {},
): Promise<unknown[]> {
  checkTimeout(options.timeoutMs);
  if (calls.length === 0) return [];
  const retries = options.retries ?? DEFAULT_RETRIES;
  const baseDelay = options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      return await withTimeout(`request to ${url}`, timeoutMs, options.signal, (signal) =>
        attemptBatch(url, calls, { ...options, signal }),
      );
    } catch (err) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (!(err instanceof SourceError) || !err.transient || attempt >= retries) throw err;
      const delayMs = Math.min(baseDelay * 2 ** attempt, MAX_RETRY_DELAY_MS);
      options.onRetry?.({ attempt: attempt + 1, retries, delayMs, error: err });
      await sleep(delayMs, options.signal);
    }
  }
}

/** Checks a `timeoutMs` option: a positive number of milliseconds (Infinity: no timeout). */
export function checkTimeout(timeoutMs: number | undefined): void {
  if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && timeoutMs > 0)) {
    throw new InvalidOptionError('timeoutMs', `must be a positive number of milliseconds, got ${timeoutMs}`);
  }
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/** Thrown into an attempt that ran out of time. */
class AttemptTimeout extends Error {}

/**
 * Runs `attempt` with a signal that aborts when `outer` aborts or after `timeoutMs`; a timed-out
 * attempt fails with a transient SourceError. The timer and the listener are always removed.
 */
async function withTimeout<T>(
  what: string,
  timeoutMs: number,
  outer: AbortSignal | undefined,
  attempt: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  if (outer?.aborted) throw outer.reason;
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(outer?.reason);
  outer?.addEventListener('abort', onAbort, { once: true });
  // setTimeout fires at once past 2^31 - 1 ms: longer timeouts mean none
  const timer =
    timeoutMs <= MAX_TIMER_MS
      ? setTimeout(() => controller.abort(new AttemptTimeout()), timeoutMs)
      : undefined;
  try {
    return await attempt(controller.signal);
  } catch (err) {
    if (!outer?.aborted && controller.signal.reason instanceof AttemptTimeout) {
      throw new SourceError(`${what} timed out after ${timeoutMs} ms`, true, { cause: err });
    }
    throw err;
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onAbort);
  }
}

async function attemptBatch(url: string, calls: readonly JsonRpcCall[], options: JsonRpcOptions) {
  const doFetch = options.fetch ?? fetch;
  const body = JSON.stringify(
    calls.map((c, id) => ({ jsonrpc: '2.0', id, method: c.method, params: c.params })),
  );
  let response: Response;
  try {
    response = await doFetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal: options.signal,
    });
  } catch (err) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw new SourceError(`request to ${url} failed: ${describe(err)}`, true, { cause: err });
  }
  let text: string;
  try {
    text = await response.text();
  } catch (err) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw new SourceError(`reading the response from ${url} failed: ${describe(err)}`, true, { cause: err });
  }
  if (!response.ok) {
    const status = response.status;
    const transient = status === 408 || status === 429 || status >= 500;
    throw new SourceError(`HTTP ${status} from ${url}: ${text.slice(0, 200)}`, transient);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SourceError(`malformed JSON-RPC response from ${url}: ${text.slice(0, 200)}`, false, {
      cause: err,
    });
  }
  // Some servers answer a whole batch with a single error object (batch too large, rate limited).
  if (!Array.isArray(json)) {
    const error = isObject(json) ? json.error : undefined;
    if (isObject(error)) throw rpcError(calls[0]!.method, error);
    throw new SourceError(`malformed JSON-RPC batch response from ${url}: not an array`);
  }
  const byId = new Map<unknown, Record<string, unknown>>();
  for (const item of json) if (isObject(item)) byId.set(item.id, item);
  const results: unknown[] = [];
  for (let id = 0; id < calls.length; id++) {
    const item = byId.get(id);
    const call = calls[id]!;
    if (item === undefined) throw new SourceError(`malformed JSON-RPC response: no answer to ${call.method}`);
    if (isObject(item.error)) throw rpcError(call.method, item.error);
    if (!('result' in item))
      throw new SourceError(`malformed JSON-RPC response: no result for ${call.method}`);
    results.push(item.result);
  }
  return results;
}

function rpcError(method: string, error: Record<string, unknown>): JsonRpcError {
  const code = typeof error.code === 'number' ? error.code : undefined;
  const message = typeof error.message === 'string' ? error.message : JSON.stringify(error);
  return new JsonRpcError(method, code, message, isTransientRpcError(code, message));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? ` (${err.cause.message})` : '';
  return err.message + cause;
}
