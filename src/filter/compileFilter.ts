import { bloomIndexes } from '../bloom/keys.js';
import type { LogFilter } from '../types/chain.js';
import { hexToBytes } from '../types/hex.js';
import { type NormalizedFilter, normalizeFilter } from './normalizeFilter.js';

/**
 * Compiles a log filter to bloom bit groups: group → clause → 3 bit indexes.
 * Groups are ANDed, clauses within a group ORed. The address list is group 0,
 * then one group per non-wildcard topic position. No groups means "every block".
 * @throws InvalidFilterError before anything is fetched, on a malformed filter.
 * @example
 * ```ts
 * compileFilter({ topics: [eventTopic('Transfer(address,address,uint256)')] }); // [[[1443, 481, 1060]]]
 * compileFilter({}); // [] (every block)
 * ```
 */
export function compileFilter(filter: LogFilter | NormalizedFilter): number[][][] {
  const normalized = normalizeFilter(filter);
  const groups: number[][][] = [];
  for (const list of [normalized.addresses, ...normalized.topics]) {
    if (list === null) continue;
    groups.push(list.map((hex) => bloomIndexes(hexToBytes(hex))));
  }
  return groups;
}
