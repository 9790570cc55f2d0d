/**
 * The on-disk key layout (go-ethereum's `core/rawdb` bloombits keys, plus ours):
 * - vector key, 43 bytes: 'B' ‖ uint16 BE bit ‖ uint64 BE section ‖ 32-byte section head hash;
 * - "iB" + "count" → uint64 BE number of stored sections;
 * - "iB" + "shead" + uint64 BE section → 32-byte section head hash;
 * - "iB" + "ssize" → uint64 BE section size (ours, not in geth);
 * - "iB" + "csum" + uint64 BE section → 32-byte section checksum (ours, see checksum.ts);
 * - "iB" + "cfrom" → uint64 BE first checksummed section (ours: every section in
 *   cfrom..count-1 has a checksum, none below; absent when no section has one).
 * go-ethereum ignores our keys; its own keys and values are byte-identical.
 */

/** Prefix byte of every bit-vector key ('B'). */
export const VECTOR_PREFIX = 0x42;
/** Byte length of a vector key. */
export const VECTOR_KEY_LENGTH = 43;
/** Byte length of a section head hash. */
export const HEAD_LENGTH = 32;

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** Key of the stored section count. */
export const COUNT_KEY: Uint8Array = ascii('iBcount');
/** Key of the recorded section size (ours: detects reopening with another size). */
export const SECTION_SIZE_KEY: Uint8Array = ascii('iBssize');
/** Key of the first checksummed section (ours). */
export const CHECKSUM_FROM_KEY: Uint8Array = ascii('iBcfrom');
/** Prefix of the section head keys. */
export const SHEAD_PREFIX: Uint8Array = ascii('iBshead');
/** Prefix of the section checksum keys (ours). */
export const CSUM_PREFIX: Uint8Array = ascii('iBcsum');
/** Prefix of the unindexed tail's keys ("iT" ‖ uint64 BE block; written by the indexer). */
export const TAIL_PREFIX: Uint8Array = ascii('iT');

/** Writes `n` (0..2^53-1) as 8 big-endian bytes at `buf[at…]`. */
export function writeUint64(buf: Uint8Array, at: number, n: number): void {
  const hi = Math.floor(n / 0x1_0000_0000);
  const lo = n >>> 0;
  buf[at] = hi >>> 24;
  buf[at + 1] = (hi >>> 16) & 0xff;
  buf[at + 2] = (hi >>> 8) & 0xff;
  buf[at + 3] = hi & 0xff;
  buf[at + 4] = lo >>> 24;
  buf[at + 5] = (lo >>> 16) & 0xff;
  buf[at + 6] = (lo >>> 8) & 0xff;
  buf[at + 7] = lo & 0xff;
}

/** `n` as a fresh 8-byte big-endian array (the encoding of count and ssize values). */
export function encodeUint64(n: number): Uint8Array {
  const out = new Uint8Array(8);
  writeUint64(out, 0, n);
  return out;
}

/** Reads an 8-byte big-endian value; `undefined` when not 8 bytes or above 2^53-1. */
export function decodeUint64(bytes: Uint8Array): number | undefined {
  if (bytes.length !== 8) return undefined;
  const hi = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
  const lo = ((bytes[4]! << 24) | (bytes[5]! << 16) | (bytes[6]! << 8) | bytes[7]!) >>> 0;
  if (hi > 0x1f_ffff) return undefined;
  return hi * 0x1_0000_0000 + lo;
}

/** Writes the 43-byte vector key of (bit, section, head) at `buf[at…]`. */
export function writeVectorKey(
  buf: Uint8Array,
  at: number,
  bit: number,
  section: number,
  head: Uint8Array,
): void {
  buf[at] = VECTOR_PREFIX;
  buf[at + 1] = bit >>> 8;
  buf[at + 2] = bit & 0xff;
  writeUint64(buf, at + 3, section);
  buf.set(head, at + 11);
}

/** The 43-byte key under which the vector of `bit` for `section` (ending in block `head`) is stored. */
export function vectorKey(bit: number, section: number, head: Uint8Array): Uint8Array {
  const key = new Uint8Array(VECTOR_KEY_LENGTH);
  writeVectorKey(key, 0, bit, section, head);
  return key;
}

/** `prefix` ‖ uint64 BE `n`. */
export function prefixedUint64(prefix: Uint8Array, n: number): Uint8Array {
  const key = new Uint8Array(prefix.length + 8);
  key.set(prefix);
  writeUint64(key, prefix.length, n);
  return key;
}

/** Key of the head hash of `section`. */
export function sectionHeadKey(section: number): Uint8Array {
  return prefixedUint64(SHEAD_PREFIX, section);
}

/** Key of the checksum of `section` (ours). */
export function sectionChecksumKey(section: number): Uint8Array {
  return prefixedUint64(CSUM_PREFIX, section);
}

/** Key range of every key `prefix` ‖ uint64 (from `from` on). */
export function uint64Range(prefix: Uint8Array, from = 0): { gte: Uint8Array; lt: Uint8Array } {
  const lt = prefix.slice();
  lt[lt.length - 1]! += 1; // our prefixes never end in 0xff
  return { gte: prefixedUint64(prefix, from), lt };
}

/** Readable name of a key for error details: 'iBshead/12', 'B/bit/section', else hex. */
export function keyName(key: Uint8Array): string {
  const named = [SHEAD_PREFIX, CSUM_PREFIX, TAIL_PREFIX].find(
    (p) => key.length === p.length + 8 && p.every((b, i) => key[i] === b),
  );
  if (named !== undefined) {
    const n = decodeUint64(key.subarray(named.length));
    const name = String.fromCharCode(...named);
    return n === undefined ? `${name}/?` : `${name}/${n}`;
  }
  if (key.length === VECTOR_KEY_LENGTH && key[0] === VECTOR_PREFIX) {
    const section = decodeUint64(key.subarray(3, 11));
    return `B/${(key[1]! << 8) | key[2]!}/${section ?? '?'}`;
  }
  if (key.every((b) => b >= 0x20 && b < 0x7f)) return String.fromCharCode(...key);
  return `0x${Array.from(key, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** Key range holding every vector of `bit` for sections >= `fromSection` (any head). */
export function vectorRange(bit: number, fromSection: number): { gte: Uint8Array; lt: Uint8Array } {
  const gte = new Uint8Array(11);
  gte[0] = VECTOR_PREFIX;
  gte[1] = bit >>> 8;
  gte[2] = bit & 0xff;
  writeUint64(gte, 3, fromSection);
  const next = bit + 1;
  return { gte, lt: Uint8Array.of(VECTOR_PREFIX, next >>> 8, next & 0xff) };
}
