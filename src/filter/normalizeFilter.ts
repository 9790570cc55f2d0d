import { type Hex, hexToBytes } from '../bloom/hex.js';
import { ADDRESS_LENGTH, HASH_LENGTH, MAX_TOPICS } from '../constants.js';
import { InvalidFilterError, InvalidHexError } from '../errors.js';
import type { LogFilter } from './types.js';

/**
 * A validated filter: lowercase hex, `null` meaning "any".
 * `topics[i] === null` is a wildcard position; trailing positions are kept so
 * the exact filter can still reject logs with too few topics.
 */
export interface NormalizedFilter {
  addresses: Hex[] | null;
  topics: (Hex[] | null)[];
}

/**
 * Validates a filter and brings it to one shape.
 * `null`, `[]` and any OR-list containing `null` are wildcards (as in eth_getLogs).
 * @throws InvalidFilterError on a wrong-length address or topic, malformed hex or more than 4 positions.
 */
export function normalizeFilter(filter: LogFilter): NormalizedFilter {
  if (filter === null || typeof filter !== 'object') throw new InvalidFilterError('filter must be an object');
  const addresses = normalizeList(filter.address, ADDRESS_LENGTH, 'address');
  const rawTopics = filter.topics ?? [];
  if (!Array.isArray(rawTopics)) throw new InvalidFilterError('filter.topics must be an array');
  if (rawTopics.length > MAX_TOPICS) {
    throw new InvalidFilterError(
      `filter.topics has ${rawTopics.length} positions; at most ${MAX_TOPICS} allowed`,
    );
  }
  const topics = rawTopics.map((t, i) => normalizeList(t, HASH_LENGTH, `topics[${i}]`));
  return { addresses, topics };
}

function normalizeList(value: unknown, length: number, what: string): Hex[] | null {
  if (value === null || value === undefined) return null;
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || list.includes(null)) return null;
  const out: Hex[] = [];
  for (const item of list) {
    try {
      hexToBytes(item as string, length);
    } catch (e) {
      if (e instanceof InvalidHexError)
        throw new InvalidFilterError(`bad ${what}: ${e.message}`, { cause: e });
      throw e;
    }
    const hex = (item as string).toLowerCase() as Hex;
    if (!out.includes(hex)) out.push(hex);
  }
  return out;
}
