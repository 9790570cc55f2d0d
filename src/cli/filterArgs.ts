import { InvalidArgumentError } from 'commander';
import { type AbiEvent, decodeEventLog } from 'viem';
import { BloomBitsError } from '../errors.js';
import { eventTopic, padAddress, parseEvent } from '../filter/topics.js';
import type { Log, LogFilter, TopicFilter } from '../types/chain.js';
import type { Hex } from '../types/hex.js';

const HEX32 = /^0x[0-9a-fA-F]{64}$/;
const HEX20 = /^0x[0-9a-fA-F]{40}$/;

/** `--address`: repeatable, each a 20-byte address or a comma list of them. */
export function parseAddressArg(value: string, previous: Hex[] = []): Hex[] {
  const out = [...previous];
  for (const part of value.split(',')) {
    const a = part.trim();
    if (!HEX20.test(a)) throw new InvalidArgumentError(`expected 20-byte hex addresses, got ${a || '""'}`);
    out.push(a.toLowerCase() as Hex);
  }
  return out;
}

/** A parsed `--topicN` (boxed: commander turns a parser's `null` into `''`). */
export interface TopicArg {
  topic: TopicFilter;
}

/**
 * `--topicN`: `null` (any), a 32-byte topic, a 20-byte address (padded to 32 bytes, as
 * indexed address parameters are), or a comma list of those (OR).
 */
export function parseTopicArg(value: string): TopicArg {
  return { topic: parseTopic(value) };
}

function parseTopic(value: string): TopicFilter {
  if (value.trim() === 'null') return null;
  const parts = value.split(',').map((p) => {
    const t = p.trim();
    if (HEX32.test(t)) return t.toLowerCase() as Hex;
    if (HEX20.test(t)) return padAddress(t);
    throw new InvalidArgumentError(`expected 'null', 32-byte topics or 20-byte addresses, got ${t || '""'}`);
  });
  return parts.length === 1 ? parts[0]! : parts;
}

/** `--event`: a Solidity event signature. */
export function parseEventArg(value: string): AbiEvent {
  try {
    const event = parseEvent(value);
    eventTopic(event); // anonymous events have no topic0 to filter on
    return event;
  } catch (e) {
    throw new InvalidArgumentError(e instanceof BloomBitsError ? e.message : String(e));
  }
}

/** The flags that add to `--filter`. */
export interface FilterFlags {
  address?: Hex[];
  event?: AbiEvent;
  /** `--topic0..--topic3`, undefined where not given. */
  topics: (TopicArg | undefined)[];
}

/**
 * `--filter` with the flags applied: `--address` and `--topicN` / `--event` (topic0) fill what the
 * JSON object leaves open. Saying the same position twice is an error (`conflict` names both).
 */
export function applyFilterFlags(
  base: LogFilter,
  flags: FilterFlags,
  conflict: (what: string) => never,
): LogFilter {
  const filter: { address?: LogFilter['address']; topics?: TopicFilter[] } = { ...base } as never;
  if (flags.address !== undefined) {
    if (base.address !== undefined && base.address !== null)
      conflict('--address and the address of --filter');
    filter.address = flags.address.length === 1 ? flags.address[0]! : flags.address;
  }
  const topics: (TopicFilter | undefined)[] = [...(base.topics ?? [])];
  const set = (i: number, value: TopicFilter, flag: string): void => {
    if (topics[i] !== undefined && topics[i] !== null) conflict(`${flag} and topic ${i} of --filter`);
    topics[i] = value;
  };
  if (flags.event !== undefined) {
    if (flags.topics[0] !== undefined) conflict('--event and --topic0');
    set(0, eventTopic(flags.event), '--event');
  }
  flags.topics.forEach((t, i) => {
    if (t !== undefined) set(i, t.topic, `--topic${i}`);
  });
  if (topics.length > 0) filter.topics = Array.from(topics, (t) => t ?? null);
  return filter as LogFilter;
}

/** A log with its decoded `eventName` and `args` (bigints as decimal strings), for JSON output. */
export type DecodedLog = Log & { eventName?: string; args?: unknown; decodeError?: string };

/**
 * Decodes `log` as `event`. A log that matches the filter but not the event's layout (say an
 * ERC-721 `Transfer`, whose third parameter is indexed, under an ERC-20 signature) keeps its raw
 * fields and says why in `decodeError` rather than stopping the stream.
 */
export function decodeLog(log: Log, event: AbiEvent): DecodedLog {
  try {
    const decoded = decodeEventLog({
      abi: [event],
      data: log.data as Hex,
      topics: log.topics as [Hex, ...Hex[]],
      strict: true,
    });
    return { ...log, eventName: decoded.eventName, args: jsonSafe(decoded.args) };
  } catch (e) {
    const message = String((e as { shortMessage?: string }).shortMessage ?? (e as Error).message);
    return { ...log, decodeError: message.split('\n')[0]! };
  }
}

/** bigints as decimal strings, recursively (JSON has no bigint). */
function jsonSafe(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonSafe(v)]));
  }
  return value;
}
