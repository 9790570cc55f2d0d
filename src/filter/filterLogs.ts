import type { Log, LogFilter } from '../types/chain.js';
import type { Hex } from '../types/hex.js';
import { type NormalizedFilter, normalizeFilter } from './normalizeFilter.js';

/**
 * True when `log` matches the filter exactly (go-ethereum `filterLogs` semantics):
 * the address is in the list (when there is one), each non-wildcard position `i`
 * contains `log.topics[i]`, and the log has at least as many topics as the filter
 * has positions (trailing wildcards included). Extra topics are fine. Case-insensitive.
 */
export function logMatches(log: Log, filter: NormalizedFilter): boolean {
  if (filter.addresses !== null && !filter.addresses.includes(log.address.toLowerCase() as Hex)) {
    return false;
  }
  // A filter position exists only if the log has a topic there, wildcard or not.
  if (log.topics.length < filter.topics.length) return false;
  for (let i = 0; i < filter.topics.length; i++) {
    const wanted = filter.topics[i];
    if (wanted == null) continue;
    if (!wanted.includes(log.topics[i]!.toLowerCase() as Hex)) return false;
  }
  return true;
}

/**
 * The logs that match `filter` exactly, in input order.
 * Accepts a raw {@link LogFilter} (validated with {@link normalizeFilter}) or an already normalized one.
 * @throws InvalidFilterError when a raw filter is malformed.
 * @example
 * ```ts
 * const mine = filterLogs(blockLogs, { topics: [TRANSFER, null, padAddress(me)] });
 * ```
 */
export function filterLogs(logs: Iterable<Log>, filter: LogFilter | NormalizedFilter): Log[] {
  const normalized = normalizeFilter(filter);
  const out: Log[] = [];
  for (const log of logs) if (logMatches(log, normalized)) out.push(log);
  return out;
}
