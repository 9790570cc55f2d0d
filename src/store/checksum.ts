import { sha256 } from '@noble/hashes/sha2';
import { BLOOM_BIT_LENGTH } from '../constants.js';
import { InvalidOptionError } from '../errors.js';
import { writeUint64 } from './keys.js';

/** Byte length of a section checksum. */
export const CHECKSUM_LENGTH = 32;

/**
 * The checksum of one stored section: sha256 over
 * `uint64 sectionSize ‖ uint64 section ‖ head ‖ (uint32 BE length ‖ value)` for
 * bits 0..2047, where `value` is the stored (compressed) bytes. The section size
 * is included so a changed "iBssize" fails every checksum; the lengths, so an
 * emptied or truncated value cannot shift bytes into its neighbour.
 */
export function sectionChecksum(
  sectionSize: number,
  section: number,
  head: Uint8Array,
  values: readonly Uint8Array[],
): Uint8Array {
  if (values.length !== BLOOM_BIT_LENGTH) {
    throw new InvalidOptionError('values', `a section checksum covers 2048 values, got ${values.length}`);
  }
  // One buffer, one update: 4,096 small updates cost more than hashing a sparse section's bytes.
  let total = 16 + head.length;
  for (const value of values) total += 4 + value.length;
  const data = new Uint8Array(total);
  writeUint64(data, 0, sectionSize);
  writeUint64(data, 8, section);
  data.set(head, 16);
  let at = 16 + head.length;
  for (const value of values) {
    const n = value.length;
    data[at] = n >>> 24;
    data[at + 1] = (n >>> 16) & 0xff;
    data[at + 2] = (n >>> 8) & 0xff;
    data[at + 3] = n & 0xff;
    data.set(value, at + 4);
    at += 4 + n;
  }
  return sha256(data);
}
