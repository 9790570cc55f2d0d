import { type AbiEvent, isAddress, pad, parseAbiItem, toEventSelector } from 'viem';
import { InvalidFilterError } from '../errors.js';
import type { Hex } from '../types/hex.js';

/**
 * The 32-byte topic of an address (left-padded with zeros), as indexed `address` event
 * parameters are stored: `padAddress(me)` goes in a topic position of a filter.
 * @throws InvalidFilterError when `address` is not a 20-byte hex address.
 * @example
 * ```ts
 * const toMe = { topics: [TRANSFER, null, padAddress('0x172cd000e3da80ca2119dbf791ae1ec1fe76be19')] };
 * ```
 */
export function padAddress(address: string): Hex {
  if (!isAddress(address, { strict: false }))
    throw new InvalidFilterError(`not a 20-byte address: ${address}`);
  return pad(address.toLowerCase() as Hex, { size: 32 });
}

/**
 * Parses a Solidity event signature, with or without the `event` keyword and parameter
 * names: `Transfer(address indexed from, address indexed to, uint256 value)`.
 * @throws InvalidFilterError when it is not an event signature.
 */
export function parseEvent(signature: string): AbiEvent {
  const text = signature.trim().startsWith('event ') ? signature.trim() : `event ${signature.trim()}`;
  let item: unknown;
  try {
    item = parseAbiItem(text);
  } catch (e) {
    throw new InvalidFilterError(`not an event signature: ${signature} (${firstLine(e)})`);
  }
  if ((item as { type?: string }).type !== 'event')
    throw new InvalidFilterError(`not an event signature: ${signature}`);
  return item as AbiEvent;
}

/**
 * topic0 of an event: keccak-256 of its canonical signature (`eventTopic('Transfer(address,address,uint256)')`
 * = `0xddf252ad…`). Accepts what {@link parseEvent} accepts, or a parsed event.
 * @throws InvalidFilterError for a bad signature or an anonymous event (it has no topic0).
 * @example
 * ```ts
 * const TRANSFER = eventTopic('Transfer(address indexed from, address indexed to, uint256 value)');
 * // '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef'
 * ```
 */
export function eventTopic(event: string | AbiEvent): Hex {
  const parsed = typeof event === 'string' ? parseEvent(event) : event;
  if (parsed.anonymous) throw new InvalidFilterError(`${parsed.name} is anonymous: it has no topic0`);
  return toEventSelector(parsed);
}

function firstLine(e: unknown): string {
  return String((e as { shortMessage?: string })?.shortMessage ?? (e as Error)?.message ?? e).split('\n')[0]!;
}
