import type { Readable } from 'node:stream';
import { SourceError } from '../errors.js';

/** Where an RLP item's payload starts and how long it is. */
export interface RlpPrefix {
  /** True for a list, false for a byte string. */
  list: boolean;
  /** Bytes of the length prefix (the payload starts this far into the item). */
  prefixLength: number;
  /** Bytes of payload after the prefix. */
  payloadLength: number;
}

/** Largest top-level item accepted: a corrupt length must not make us buffer a whole file. */
export const MAX_RLP_ITEM_BYTES = 256 * 1024 * 1024;

/**
 * Reads the RLP length prefix of the item at `pos`.
 * @returns `null` when `bytes` ends before the prefix does.
 * @throws SourceError on a non-canonical or oversized length.
 */
export function readRlpPrefix(bytes: Uint8Array, pos: number): RlpPrefix | null {
  const b = bytes[pos];
  if (b === undefined) return null;
  if (b < 0x80) return { list: false, prefixLength: 0, payloadLength: 1 };
  if (b <= 0xb7) return { list: false, prefixLength: 1, payloadLength: b - 0x80 };
  if (b <= 0xbf) return longPrefix(bytes, pos, b - 0xb7, false);
  if (b <= 0xf7) return { list: true, prefixLength: 1, payloadLength: b - 0xc0 };
  return longPrefix(bytes, pos, b - 0xf7, true);
}

function longPrefix(bytes: Uint8Array, pos: number, lengthOfLength: number, list: boolean): RlpPrefix | null {
  if (pos + 1 + lengthOfLength > bytes.length) return null;
  if (bytes[pos + 1] === 0) throw new SourceError('invalid RLP: length with a leading zero');
  let length = 0;
  for (let i = 1; i <= lengthOfLength; i++) {
    length = length * 256 + bytes[pos + i]!;
    if (length > MAX_RLP_ITEM_BYTES)
      throw new SourceError(`RLP item larger than ${MAX_RLP_ITEM_BYTES} bytes`);
  }
  if (length < 56) throw new SourceError('invalid RLP: long form used for a short length');
  return { list, prefixLength: 1 + lengthOfLength, payloadLength: length };
}

/**
 * Splits a byte stream of concatenated top-level RLP lists into items, one at a time, without
 * holding more than the current item (plus one chunk) in memory. Each item is a view valid
 * until the next one is requested.
 * @throws SourceError (with the byte offset) on a top-level string, a bad prefix or a truncated item.
 */
export async function* readRlpItems(stream: Readable): AsyncGenerator<{ bytes: Uint8Array; offset: number }> {
  let buf: Uint8Array = new Uint8Array(0);
  let pos = 0;
  let base = 0; // file offset of buf[0]
  const waiting: Uint8Array[] = [];
  let waitingBytes = 0;
  let need = 0; // bytes (from pos) required before parsing can go on
  for await (const chunk of stream as AsyncIterable<Uint8Array>) {
    waiting.push(chunk);
    waitingBytes += chunk.length;
    if (buf.length - pos + waitingBytes < need) continue; // concatenate once per item, not once per chunk
    base += pos;
    buf = concat(buf.subarray(pos), waiting, waitingBytes);
    pos = 0;
    waiting.length = 0;
    waitingBytes = 0;
    for (;;) {
      const prefix = withOffset(base + pos, () => readRlpPrefix(buf, pos));
      if (prefix === null) {
        need = buf.length - pos + 1;
        break;
      }
      if (!prefix.list) throw new SourceError(`RLP at byte ${base + pos}: top-level item is not a list`);
      const total = prefix.prefixLength + prefix.payloadLength;
      if (pos + total > buf.length) {
        need = total;
        break;
      }
      yield { bytes: buf.subarray(pos, pos + total), offset: base + pos };
      pos += total;
      need = 0;
    }
  }
  const left = buf.length - pos + waitingBytes;
  if (left > 0)
    throw new SourceError(`RLP truncated: ${left} trailing bytes at byte ${base + pos} do not form an item`);
}

function withOffset<T>(offset: number, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof SourceError)
      throw new SourceError(`RLP at byte ${offset}: ${err.message}`, false, { cause: err });
    throw err;
  }
}

function concat(head: Uint8Array, tail: readonly Uint8Array[], tailBytes: number): Uint8Array {
  if (head.length === 0 && tail.length === 1) return tail[0]!;
  const out = new Uint8Array(head.length + tailBytes);
  out.set(head, 0);
  let at = head.length;
  for (const t of tail) {
    out.set(t, at);
    at += t.length;
  }
  return out;
}
