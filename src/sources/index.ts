/**
 * Header sources (for indexing) and logs sources (for the exact filter) that run
 * anywhere (global fetch or an EIP-1193 provider). The file sources need Node:
 * they are exported by `rx-bloombits/node` (src/node.ts).
 */

export {
  DEFAULT_TIMEOUT_MS,
  isMethodNotFound,
  type JsonRpcCall,
  JsonRpcError,
  type JsonRpcOptions,
  jsonRpcBatch,
  type RetryInfo,
} from './jsonRpc.js';
export { DEFAULT_POLL_INTERVAL_MS, type LiveHeadersOptions, liveHeaders } from './liveHeaders.js';
export { type Eip1193Provider, isProvider, type RpcEndpoint } from './provider.js';
export {
  DEFAULT_RPC_BATCH_SIZE,
  DEFAULT_RPC_CONCURRENCY,
  type RpcHeadersOptions,
  rpcHeaders,
} from './rpcHeaders.js';
export { type RpcReceiptsOptions, rpcReceipts } from './rpcReceipts.js';
export type { LogsSource } from './types.js';
