import { sha256 } from '@noble/hashes/sha2';
import { compressInto } from '../bitutil/compress.js';
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
  return sha256(checksumInput(sectionSize, section, head, values));
}

/** A section's stored values laid out as its checksum's input (see {@link packSection}). */
export interface PackedSection {
  /** `uint64 sectionSize ‖ uint64 section ‖ head ‖ (uint32 BE length ‖ value)` for bits 0..2047. */
  readonly data: Uint8Array<ArrayBuffer>;
  /** The stored (compressed) value of each bit: views into `data`. */
  readonly values: Uint8Array[];
}

/**
 * Compresses a section's 2048 vectors into one fresh buffer that is also its
 * checksum's input: one allocation and no second copy for the hash, where one
 * array per value plus a concatenation for the hash cost two copies of the
 * section and 2,049 allocations. `scratch` (reused by the caller) must hold
 * 48 + 2048 × (4 + vector length) bytes; vectors must all have that length.
 */
export function packSection(
  sectionSize: number,
  section: number,
  head: Uint8Array,
  vectors: readonly Uint8Array[],
  scratch: Uint8Array,
): PackedSection {
  if (vectors.length !== BLOOM_BIT_LENGTH) {
    throw new InvalidOptionError('vectors', `a section has 2048 vectors, got ${vectors.length}`);
  }
  const starts = new Uint32Array(BLOOM_BIT_LENGTH + 1);
  let at = writePrefix(scratch, sectionSize, section, head);
  for (let bit = 0; bit < BLOOM_BIT_LENGTH; bit++) {
    const n = compressInto(vectors[bit]!, scratch, at + 4);
    writeUint32(scratch, at, n);
    starts[bit] = at + 4;
    at += 4 + n;
  }
  starts[BLOOM_BIT_LENGTH] = at + 4;
  const data = scratch.slice(0, at);
  const values: Uint8Array[] = new Array(BLOOM_BIT_LENGTH);
  for (let bit = 0; bit < BLOOM_BIT_LENGTH; bit++)
    values[bit] = data.subarray(starts[bit]!, starts[bit + 1]! - 4);
  return { data, values };
}

/**
 * The checksum of a {@link packSection} result, hashed by WebCrypto where it
 * exists (Node, browsers in secure contexts): native SHA-256 off the main thread
 * instead of ~7 ms of JavaScript for a dense section's 1 MiB. Else the same hash
 * in JavaScript; both equal {@link sectionChecksum} of the values.
 */
export async function packedChecksum(packed: PackedSection): Promise<Uint8Array> {
  const subtle = globalThis.crypto?.subtle;
  if (subtle === undefined) return sha256(packed.data);
  return new Uint8Array(await subtle.digest('SHA-256', packed.data));
}

/** The bytes a section checksum hashes (see {@link sectionChecksum}). */
function checksumInput(
  sectionSize: number,
  section: number,
  head: Uint8Array,
  values: readonly Uint8Array[],
): Uint8Array<ArrayBuffer> {
  if (values.length !== BLOOM_BIT_LENGTH) {
    throw new InvalidOptionError('values', `a section checksum covers 2048 values, got ${values.length}`);
  }
  // One buffer, one update: 4,096 small updates cost more than hashing a sparse section's bytes.
  let total = 16 + head.length;
  for (const value of values) total += 4 + value.length;
  const data = new Uint8Array(total);
  let at = writePrefix(data, sectionSize, section, head);
  for (const value of values) {
    writeUint32(data, at, value.length);
    data.set(value, at + 4);
    at += 4 + value.length;
  }
  return data;
}

/** Writes `uint64 sectionSize ‖ uint64 section ‖ head` at 0; returns where the values start. */
function writePrefix(out: Uint8Array, sectionSize: number, section: number, head: Uint8Array): number {
  writeUint64(out, 0, sectionSize);
  writeUint64(out, 8, section);
  out.set(head, 16);
  return 16 + head.length;
}

/** A value's length, big-endian, at `at`. */
function writeUint32(out: Uint8Array, at: number, n: number): void {
  out[at] = n >>> 24;
  out[at + 1] = (n >>> 16) & 0xff;
  out[at + 2] = (n >>> 8) & 0xff;
  out[at + 3] = n & 0xff;
}
