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
  const hash = sha256.create();
  const prefix = new Uint8Array(16);
  writeUint64(prefix, 0, sectionSize);
  writeUint64(prefix, 8, section);
  hash.update(prefix).update(head);
  const len = new Uint8Array(4);
  for (const value of values) {
    const n = value.length;
    len[0] = n >>> 24;
    len[1] = (n >>> 16) & 0xff;
    len[2] = (n >>> 8) & 0xff;
    len[3] = n & 0xff;
    hash.update(len).update(value);
  }
  return hash.digest();
}
