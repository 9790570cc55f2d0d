import { SourceError } from '../errors.js';
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
}

/** Default retries of a transient JSON-RPC failure. */
export const DEFAULT_RETRIES = 5;
/** Default first backoff delay in milliseconds. */
export const DEFAULT_RETRY_DELAY_MS = 250;
const MAX_RETRY_DELAY_MS = 30_000;

/** A JSON-RPC error object returned by the node for one call. */
export class JsonRpcError extends SourceError {
  override name = 'JsonRpcError';
  constructor(
    readonly method: string,
    readonly code: number | undefined,
    readonly rpcMessage: string,
    transient: boolean,
  ) {
    super(`${method} failed: JSON-RPC error ${code ?? '?'}: ${rpcMessage}`, transient);
  }
}

/**
 * True when an error says the node does not implement the method: code -32601, or a
 * "does not exist / not supported" message (ganache answers -32700 with such a message).
 */
export function isMethodNotFound(err: unknown): boolean {
  if (!(err instanceof JsonRpcError)) return false;
  return (
    err.code === -32601 ||
    /method .*(not found|does not exist|not supported|not available)|not supported|unsupported method/i.test(
      err.rpcMessage,
    )
  );
}

// Rate limits, overload and timeouts are worth retrying; anything else the node will say again.
const TRANSIENT_MESSAGE =
  /rate limit|limit exceeded|too many requests|timeout|timed out|temporar|unavailable|busy|try again|overloaded|capacity/i;

function isTransientRpcError(code: number | undefined, message: string): boolean {
  return code === -32005 || code === 429 || TRANSIENT_MESSAGE.test(message);
}

/**
 * Sends `calls` as one JSON-RPC batch (array body) and returns the results in call order.
 * Network errors, HTTP 408/429/5xx and transient-looking JSON-RPC errors are retried with
 * exponential backoff; the last failure is a transient {@link SourceError}.
 * @throws JsonRpcError when the node answers a call with a (non-transient) error.
 * @throws SourceError on other HTTP errors or a malformed response.
 * Aborting `signal` rejects with the signal's reason.
 */
export async function jsonRpcBatch(
  url: string,
  calls: readonly JsonRpcCall[],
  options: JsonRpcOptions = {},
): Promise<unknown[]> {
  if (calls.length === 0) return [];
  const retries = options.retries ?? DEFAULT_RETRIES;
  const baseDelay = options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      return await attemptBatch(url, calls, options);
    } catch (err) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (!(err instanceof SourceError) || !err.transient || attempt >= retries) throw err;
      await sleep(Math.min(baseDelay * 2 ** attempt, MAX_RETRY_DELAY_MS), options.signal);
    }
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
