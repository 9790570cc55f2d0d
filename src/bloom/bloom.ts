import { BLOOM_BIT_LENGTH, BLOOM_BYTE_LENGTH } from '../constants.js';
import { InvalidBloomError } from '../errors.js';
import { type Hex, hexToBytes } from '../types/hex.js';
import { bloomIndexes } from './keys.js';

/**
 * logsBloom manipulation (go-ethereum bloom9 semantics): bloom bit v lives in
 * byte `255 - (v >> 3)` under mask `1 << (v & 7)`.
 */

/** A log as far as its bloom is concerned: its address and topics, as hex or raw bytes. */
export interface BloomLog {
  address: Hex | Uint8Array;
  topics: readonly (Hex | Uint8Array)[];
}

/** Throws unless `bloom` is a 256-byte array. */
export function assertBloom(bloom: Uint8Array): void {
  if (!(bloom instanceof Uint8Array) || bloom.length !== BLOOM_BYTE_LENGTH) {
    const got = bloom instanceof Uint8Array ? `${bloom.length} bytes` : typeof bloom;
    throw new InvalidBloomError(`a bloom must be ${BLOOM_BYTE_LENGTH} bytes, got ${got}`);
  }
}

/** True when bloom bit `v` (0..2047) is set; `v` must already be validated. */
function hasBit(bloom: Uint8Array, v: number): boolean {
  return (bloom[255 - (v >>> 3)]! & (1 << (v & 7))) !== 0;
}

/** Sets the three bits of `key` in `bloom` (in place), as adding a log address or topic does. */
export function bloomAdd(bloom: Uint8Array, key: Uint8Array): void {
  assertBloom(bloom);
  for (const v of bloomIndexes(key)) bloom[255 - (v >>> 3)]! |= 1 << (v & 7);
}

/** True when `key` is possibly in `bloom` (all three of its bits are set); false means surely absent. */
export function bloomTest(bloom: Uint8Array, key: Uint8Array): boolean {
  return bloomTestBits(bloom, bloomIndexes(key));
}

/** True when every given bit index is set in `bloom` (a pre-hashed key test). */
export function bloomTestBits(bloom: Uint8Array, bits: readonly number[]): boolean {
  assertBloom(bloom);
  for (const v of bits) {
    if (!Number.isInteger(v) || v < 0 || v >= BLOOM_BIT_LENGTH) {
      throw new InvalidBloomError(`bloom bit index must be in 0..${BLOOM_BIT_LENGTH - 1}, got ${v}`);
    }
    if (!hasBit(bloom, v)) return false;
  }
  return true;
}

/**
 * The header-bloom form of a compiled filter: true when every group has a
 * clause whose bits are all set (AND of groups, OR of clauses).
 */
export function bloomTestGroups(
  bloom: Uint8Array,
  groups: readonly (readonly (readonly number[])[])[],
): boolean {
  return groups.every((group) => group.some((clause) => bloomTestBits(bloom, clause)));
}

/** Builds a block's logsBloom: the OR of every log's address and topics. */
export function createBloom(logs: Iterable<BloomLog>): Uint8Array {
  const bloom = new Uint8Array(BLOOM_BYTE_LENGTH);
  for (const log of logs) {
    bloomAdd(bloom, toBytes(log.address));
    for (const topic of log.topics) bloomAdd(bloom, toBytes(topic));
  }
  return bloom;
}

/** Raw bytes of a key given as hex or bytes (no length check: bloom9 hashes any key). */
function toBytes(key: Hex | Uint8Array): Uint8Array {
  return typeof key === 'string' ? hexToBytes(key) : key;
}
