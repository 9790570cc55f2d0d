import type { Hex } from './hex.js';

/** A block number as users write it: number, bigint, hex quantity, or a tag. */
export type BlockNumberInput = number | bigint | Hex | 'earliest' | 'latest';

/** A block range, both ends inclusive. */
export interface BlockRange {
  fromBlock?: BlockNumberInput;
  toBlock?: BlockNumberInput;
}

/** One topic position: a topic, an OR-list of topics, or `null` (wildcard). */
export type TopicFilter = Hex | readonly (Hex | null)[] | null;

/**
 * A log filter in the `eth_getLogs` / viem shape.
 * `address`: one address or an OR-list; `topics`: up to 4 positions, each a topic,
 * an OR-list, or `null` for "anything".
 */
export interface LogFilter {
  address?: Hex | readonly Hex[] | null;
  topics?: readonly TopicFilter[] | null;
}

/** A log as JSON-RPC returns it (the fields rx-bloombits reads and passes on). */
export interface Log {
  address: Hex;
  topics: Hex[];
  data: Hex;
  blockNumber: Hex;
  blockHash: Hex;
  transactionHash: Hex;
  transactionIndex: Hex;
  logIndex: Hex;
  removed: boolean;
}

/** The header fields the indexer needs. `number` is a plain number on the way in. */
export interface BlockHeader {
  number: number;
  hash: Hex;
  parentHash: Hex;
  logsBloom: Hex;
}
