import { BLOOM_BYTE_LENGTH, HASH_LENGTH } from '../constants.js';
import { SourceError } from '../errors.js';
import type { BlockHeader } from '../types/chain.js';
import { parseHex } from './parseHex.js';
import { parseQuantity } from './quantity.js';

/**
 * Reads the header fields the indexer needs from a JSON-RPC block object
 * (`number` as a JSON number or hex quantity; hashes 32 bytes, logsBloom 256 bytes; hex lowercased).
 * @throws SourceError on a missing or malformed field.
 */
export function parseHeaderJson(value: unknown): BlockHeader {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SourceError(`block is not an object: ${JSON.stringify(value)?.slice(0, 80)}`);
  }
  const block = value as Record<string, unknown>;
  return {
    number: parseQuantity(block.number, 'number'),
    hash: parseHex(block.hash, 'hash', HASH_LENGTH),
    parentHash: parseHex(block.parentHash, 'parentHash', HASH_LENGTH),
    logsBloom: parseHex(block.logsBloom, 'logsBloom', BLOOM_BYTE_LENGTH),
  };
}
