/**
 * rx-bloombits: a go-ethereum-style bloom-bits index of Ethereum `logsBloom`s,
 * queried as RxJS Observables.
 */
export * from './bitutil/index.js';
export * from './bloom/index.js';
export { BloomIndex, type HeaderSource, type LogsOptions, type WatchOptions } from './bloomIndex.js';
export * from './constants.js';
export * from './errors.js';
export { compileFilter } from './filter/compileFilter.js';
export { filterLogs, logMatches } from './filter/filterLogs.js';
export { type NormalizedFilter, normalizeFilter } from './filter/normalizeFilter.js';
export { eventTopic, padAddress, parseEvent } from './filter/topics.js';
export * from './generator/index.js';
export type { Generation, IndexSnapshot } from './indexer/snapshot.js';
export type { BloomIndexOptions, IndexHeadersOptions, IndexInfo, IndexProgress } from './indexer/types.js';
export { blocksOfBatch } from './matcher/blockNumbers.js';
export type { EngineStats } from './matcher/engine.js';
export { createMatcher, type Matcher, type MatcherOptions, type MatchRange } from './matcher/matcher.js';
export type { Clause, ClauseGroup, RetrievalTask, Retriever, SectionBatch } from './matcher/types.js';
export { concatMapEager } from './operators/concatMapEager.js';
export { fetchCandidates } from './operators/fetchCandidates.js';
export * from './sources/index.js';
export * from './store/index.js';
export { INDEX_LEVEL_OPTIONS } from './store/levelOptions.js';
export { storeRetriever } from './store/storeRetriever.js';
export { parseBlockNumber, parseBlockRange } from './types/blockNumber.js';
export type {
  BlockHeader,
  BlockNumberInput,
  BlockRange,
  Log,
  LogFilter,
  TopicFilter,
} from './types/chain.js';
export { bytesToHex, type Hex, hexToBytes, isHex } from './types/hex.js';
