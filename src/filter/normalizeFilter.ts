import { ADDRESS_LENGTH, HASH_LENGTH, MAX_TOPICS } from '../constants.js';
import { InvalidFilterError, InvalidHexError } from '../errors.js';
import type { LogFilter } from '../types/chain.js';
import { type Hex, hexToBytes } from '../types/hex.js';

/**
 * A validated filter: lowercase hex, `null` meaning "any".
 * `topics[i] === null` is a wildcard position; trailing positions are kept so
 * the exact filter can still reject logs with too few topics.
 */
export interface NormalizedFilter {
  addresses: Hex[] | null;
  topics: (Hex[] | null)[];
}

/** Filters made by {@link normalizeFilter}: only these skip validation (a look-alike object does not). */
const normalized = new WeakSet<object>();

/** True when `filter` came out of {@link normalizeFilter}. */
export function isNormalizedFilter(filter: unknown): filter is NormalizedFilter {
  return typeof filter === 'object' && filter !== null && normalized.has(filter);
}

/**
 * Validates a filter and brings it to one shape (a filter it made itself is returned as is).
 * `null`, `[]` and any OR-list containing `null` are wildcards (as in eth_getLogs);
 * a hole or `undefined` at a topic position is a wildcard too.
 * Only `address` and `topics` are read: any other key is an error rather than being
 * silently ignored (a misspelt `adress` would otherwise match every block).
 * @throws InvalidFilterError on an unknown key, `fromBlock`/`toBlock`/`blockHash` in the filter,
 * a wrong-length address or topic, malformed hex or more than 4 positions.
 * @example
 * ```ts
 * normalizeFilter({ address: '0xA2A4809318FBE04298146C9842A593A9EFAC7F74', topics: [null, [TRANSFER, null]] });
 * // { addresses: ['0xa2a4809318fbe04298146c9842a593a9efac7f74'], topics: [null, null] }
 * ```
 */
export function normalizeFilter(filter: LogFilter | NormalizedFilter): NormalizedFilter {
  if (isNormalizedFilter(filter)) return filter;
  if (filter === null || typeof filter !== 'object' || Array.isArray(filter))
    throw new InvalidFilterError(`filter must be an object, got ${describe(filter)}`);
  for (const key of Object.keys(filter)) checkKey(key);
  const addresses = normalizeList(filter.address, ADDRESS_LENGTH, 'address');
  const rawTopics = filter.topics ?? [];
  if (!Array.isArray(rawTopics)) throw new InvalidFilterError('filter.topics must be an array');
  if (rawTopics.length > MAX_TOPICS) {
    throw new InvalidFilterError(
      `filter.topics has ${rawTopics.length} positions; at most ${MAX_TOPICS} allowed`,
    );
  }
  // Array.from visits holes (as undefined), unlike map, so a sparse list gets no holes.
  const topics = Array.from(rawTopics as readonly unknown[], (t, i) =>
    normalizeList(t, HASH_LENGTH, `topics[${i}]`),
  );
  // Frozen, so a branded filter cannot be changed into an unvalidated one.
  for (const list of [addresses, ...topics]) if (list) Object.freeze(list);
  const out: NormalizedFilter = Object.freeze({
    addresses,
    topics: Object.freeze(topics) as (Hex[] | null)[],
  });
  normalized.add(out);
  return out;
}

function checkKey(key: string): void {
  if (key === 'address' || key === 'topics') return;
  if (key === 'fromBlock' || key === 'toBlock')
    throw new InvalidFilterError(
      `filter.${key} is not read from the filter: pass the block range as the second argument ({ fromBlock, toBlock })`,
    );
  if (key === 'blockHash')
    throw new InvalidFilterError('filter.blockHash is not supported: use a { fromBlock, toBlock } range');
  const hint = key === 'addresses' ? '; a NormalizedFilter must come from normalizeFilter' : '';
  throw new InvalidFilterError(`unknown filter key ${JSON.stringify(key)} (allowed: address, topics${hint})`);
}

function normalizeList(value: unknown, length: number, what: string): Hex[] | null {
  if (value === null || value === undefined) return null;
  const list: readonly unknown[] = Array.isArray(value) ? value : [value];
  if (list.length === 0 || list.includes(null)) return null;
  const out: Hex[] = [];
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
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

function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}
