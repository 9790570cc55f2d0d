/**
 * rx-bloombits: a go-ethereum-style bloom-bits index of Ethereum `logsBloom`s,
 * queried as RxJS Observables.
 */

export { bytesToHex, type Hex, hexToBytes, isHex } from './bloom/hex.js';
export * from './constants.js';
export * from './errors.js';
export type {
  BlockHeader,
  BlockNumberInput,
  BlockRange,
  Log,
  LogFilter,
  TopicFilter,
} from './filter/types.js';
