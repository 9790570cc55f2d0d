/**
 * The filter form's text fields to a LogFilter, a block range and (when the user wrote an event
 * signature) the event to decode logs with. Pure: the form shows the error message it throws.
 */
import {
  eventTopic,
  type Hex,
  InvalidFilterError,
  isHex,
  type LogFilter,
  padAddress,
  parseBlockNumber,
  parseEvent,
  type TopicFilter,
} from 'rx-bloombits';
import type { AbiEvent } from 'viem';

/** What the user typed. Lists are comma-separated (OR); an empty topic is a wildcard. */
export interface FilterFields {
  /** An event signature (`Transfer(address indexed from, …)`), or topic0: a topic or an OR list. */
  event: string;
  address: string;
  topic1: string;
  topic2: string;
  topic3: string;
  fromBlock: string;
  /** Empty: the index's head ('latest'). */
  toBlock: string;
}

export interface ParsedQuery {
  filter: LogFilter;
  fromBlock: number;
  toBlock: number | 'latest';
  /** The event whose arguments the logs are decoded with. */
  event?: AbiEvent;
}

export const emptyFields: FilterFields = {
  event: '',
  address: '',
  topic1: '',
  topic2: '',
  topic3: '',
  fromBlock: '',
  toBlock: '',
};

const list = (text: string): string[] =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** One topic value: a 32-byte topic, or a 20-byte address padded as indexed address parameters are. */
function topicValue(text: string): Hex {
  if (isHex(text) && text.length === 66) return text.toLowerCase() as Hex;
  if (isHex(text) && text.length === 42) return padAddress(text);
  throw new InvalidFilterError(`not a 32-byte topic or a 20-byte address: ${text}`);
}

function address(text: string): Hex {
  if (isHex(text) && text.length === 42) return text.toLowerCase() as Hex;
  throw new InvalidFilterError(`not a 20-byte address: ${text}`);
}

/** A topic position: empty = any (null), one value, or an OR list. */
function topicFilter(text: string): TopicFilter {
  const values = list(text).map(topicValue);
  return values.length === 0 ? null : values.length === 1 ? values[0]! : values;
}

function blockNumber(text: string, fallback: number | 'latest'): number | 'latest' {
  const t = text.trim();
  if (t === '' || t === 'latest') return fallback;
  return parseBlockNumber(/^\d+$/.test(t) ? Number(t) : (t as Hex));
}

/** @throws InvalidFilterError / InvalidRangeError with a message for the form. */
export function parseFields(fields: FilterFields): ParsedQuery {
  const event = fields.event.includes('(') ? parseEvent(fields.event) : undefined;
  const topics: TopicFilter[] = [
    event !== undefined ? eventTopic(event) : topicFilter(fields.event),
    topicFilter(fields.topic1),
    topicFilter(fields.topic2),
    topicFilter(fields.topic3),
  ];
  while (topics.length > 0 && topics.at(-1) === null) topics.pop();
  const addresses = list(fields.address).map(address);
  const filter: LogFilter = {
    ...(addresses.length > 0 ? { address: addresses.length === 1 ? addresses[0]! : addresses } : {}),
    ...(topics.length > 0 ? { topics } : {}),
  };
  const fromBlock = blockNumber(fields.fromBlock, 0);
  return {
    filter,
    fromBlock: fromBlock === 'latest' ? 0 : fromBlock,
    toBlock: blockNumber(fields.toBlock, 'latest'),
    ...(event !== undefined ? { event } : {}),
  };
}
