import { SourceError } from '../errors.js';
import {
  checkTimeout,
  isMethodNotFound,
  isTransientRpcError,
  type JsonRpcCall,
  JsonRpcError,
  type JsonRpcOptions,
  jsonRpcBatch,
} from './jsonRpc.js';

/**
 * An EIP-1193 provider: what viem clients, ethers' `BrowserProvider`, wallets and ganache expose.
 * Only `request` is needed; `on`/`removeListener` enable `eth_subscribe` notifications.
 */
export interface Eip1193Provider {
  request(args: { method: string; params?: readonly unknown[] | object }): Promise<unknown>;
  on?(event: string, listener: (...args: never[]) => void): unknown;
  removeListener?(event: string, listener: (...args: never[]) => void): unknown;
}

/** Where JSON-RPC calls go: a URL (our batching HTTP client) or your own EIP-1193 provider. */
export type RpcEndpoint = string | Eip1193Provider;

/** Sends calls and returns their results in call order; rejects with a {@link SourceError}. */
export type RpcCaller = (calls: readonly JsonRpcCall[], signal: AbortSignal) => Promise<unknown[]>;

/** True for an object with a `request` function (an EIP-1193 provider). */
export function isProvider(endpoint: unknown): endpoint is Eip1193Provider {
  return (
    typeof endpoint === 'object' &&
    endpoint !== null &&
    typeof (endpoint as { request?: unknown }).request === 'function'
  );
}

/** A short name of an endpoint for error messages. */
export function describeEndpoint(endpoint: RpcEndpoint): string {
  return typeof endpoint === 'string' ? endpoint : 'the provider';
}

/**
 * The caller of an endpoint. A URL goes through {@link jsonRpcBatch} (one HTTP batch per call
 * list, retries, timeouts). A provider gets one `request` per call, all of a list at once (the
 * provider does its own batching, retries and timeouts); its failures become SourceErrors
 * (JsonRpcError when they carry a JSON-RPC code). Aborting the signal rejects at once with its
 * reason (a provider request cannot be cancelled; its late answer is ignored).
 * @throws InvalidOptionError for a bad `timeoutMs`; SourceError for an endpoint of another type.
 */
export function rpcCaller(endpoint: RpcEndpoint, options: JsonRpcOptions = {}): RpcCaller {
  checkTimeout(options.timeoutMs);
  if (typeof endpoint === 'string') {
    return (calls, signal) => jsonRpcBatch(endpoint, calls, { ...options, signal });
  }
  if (!isProvider(endpoint)) {
    throw new SourceError('an RPC endpoint must be a URL or an EIP-1193 provider (an object with request())');
  }
  return (calls, signal) => abortable(Promise.all(calls.map((c) => providerCall(endpoint, c))), signal);
}

async function providerCall(provider: Eip1193Provider, call: JsonRpcCall): Promise<unknown> {
  try {
    return await provider.request({ method: call.method, params: call.params });
  } catch (err) {
    throw providerError(call.method, err);
  }
}

/**
 * A provider's failure as a SourceError: a JSON-RPC `code` (on the error, or nested as viem's
 * `cause` and ethers' `error`/`info.error` do) makes it a {@link JsonRpcError}.
 */
export function providerError(method: string, err: unknown): SourceError {
  if (err instanceof SourceError) return err;
  for (let e: unknown = err, depth = 0; isObject(e) && depth < 5; depth++) {
    if (typeof e.code === 'number') {
      const message = String(e.details ?? e.shortMessage ?? e.message ?? '');
      return new JsonRpcError(method, e.code, message, isTransientRpcError(e.code, message));
    }
    e = e.cause ?? e.error ?? (isObject(e.info) ? e.info.error : undefined);
  }
  const message = err instanceof Error ? err.message : String(err);
  // ganache says so without a code
  const notFound = new JsonRpcError(method, undefined, message, false);
  if (isMethodNotFound(notFound)) return notFound;
  // Without a JSON-RPC code it is a transport failure (network, timeout): worth retrying.
  return new SourceError(`${method} failed: ${message}`, true, { cause: err });
}

/** `promise`, or a rejection with the signal's reason as soon as `signal` aborts. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}
