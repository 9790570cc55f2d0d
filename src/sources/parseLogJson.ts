import { ADDRESS_LENGTH, HASH_LENGTH, MAX_TOPICS } from '../constants.js';
import { SourceError } from '../errors.js';
import type { Log } from '../types/chain.js';
import { parseHex } from './parseHex.js';
import { parseQuantity, toQuantity } from './quantity.js';

/**
 * Reads a JSON-RPC log object into a {@link Log}: quantities (given as numbers or hex) become
 * hex quantities, hex fields are validated and lowercased, `removed` defaults to false.
 * @throws SourceError on a missing or malformed field.
 */
export function parseLogJson(value: unknown): Log {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SourceError(`log is not an object: ${JSON.stringify(value)?.slice(0, 80)}`);
  }
  const log = value as Record<string, unknown>;
  if (!Array.isArray(log.topics) || log.topics.length > MAX_TOPICS) {
    throw new SourceError(
      `log topics must be an array of at most ${MAX_TOPICS}: ${JSON.stringify(log.topics)}`,
    );
  }
  return {
    address: parseHex(log.address, 'log address', ADDRESS_LENGTH),
    topics: log.topics.map((t, i) => parseHex(t, `log topics[${i}]`, HASH_LENGTH)),
    data: parseHex(log.data, 'log data'),
    blockNumber: toQuantity(parseQuantity(log.blockNumber, 'log blockNumber')),
    blockHash: parseHex(log.blockHash, 'log blockHash', HASH_LENGTH),
    transactionHash: parseHex(log.transactionHash, 'log transactionHash', HASH_LENGTH),
    transactionIndex: toQuantity(parseQuantity(log.transactionIndex, 'log transactionIndex')),
    logIndex: toQuantity(parseQuantity(log.logIndex, 'log logIndex')),
    removed: log.removed === true,
  };
}

/** Sorts logs by log index (numerically), in place, and returns them. */
export function sortByLogIndex(logs: Log[]): Log[] {
  return logs.sort((a, b) => Number.parseInt(a.logIndex, 16) - Number.parseInt(b.logIndex, 16));
}
