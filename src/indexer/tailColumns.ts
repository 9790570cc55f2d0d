import { BLOOM_BYTE_LENGTH, HASH_LENGTH } from '../constants.js';
import { InvalidOptionError } from '../errors.js';

/** Bytes per entry: hash ‖ bloom. */
const ENTRY = HASH_LENGTH + BLOOM_BYTE_LENGTH;
/** Most blocks per chunk: 256 × 288 bytes stays under glibc's 128 KiB mmap threshold. */
const MAX_CHUNK_BLOCKS = 256;

/**
 * The unindexed tail's hashes and blooms, block after block, in fixed chunks of
 * bytes. An object per block (with its hash and bloom views) kept a section's
 * worth of survivors for every scavenge to copy and promote; here the garbage
 * collector sees one array per 256 blocks.
 *
 * Entries are only ever appended, so snapshots sharing one instance keep
 * reading their first `tailLength` entries unchanged. A commit or rollback
 * makes new columns ({@link from}, {@link upTo}) that share the chunks they
 * keep: a chunk never holds blocks of two sections (its size divides the
 * section size), and a chunk is written past an entry only by appending.
 */
export class TailColumns {
  private readonly chunks: Uint8Array[];
  private readonly shift: number;
  private count: number;

  /** Empty columns for sections of `sectionSize` blocks (a multiple of 8). */
  constructor(sectionSize: number);
  constructor(sectionSize: number, chunks: Uint8Array[], count: number);
  constructor(
    private readonly sectionSize: number,
    chunks: Uint8Array[] = [],
    count = 0,
  ) {
    let shift = 3;
    while (2 << shift <= MAX_CHUNK_BLOCKS && sectionSize % (2 << shift) === 0) shift++;
    this.shift = shift;
    this.chunks = chunks;
    this.count = count;
  }

  /** Columns holding copies of `blocks`' hashes and blooms, in order. */
  static of(sectionSize: number, blocks: readonly { hash: Uint8Array; bloom: Uint8Array }[]): TailColumns {
    const columns = new TailColumns(sectionSize);
    for (const b of blocks) columns.append(b.hash, b.bloom);
    return columns;
  }

  /** Entries appended so far. */
  get length(): number {
    return this.count;
  }

  /** Appends a copy of one block's hash (32 bytes) and bloom (256 bytes). */
  append(hash: Uint8Array, bloom: Uint8Array): void {
    const i = this.count;
    const mask = (1 << this.shift) - 1;
    if ((i & mask) === 0) this.chunks.push(new Uint8Array(ENTRY << this.shift));
    const chunk = this.chunks[i >>> this.shift]!;
    const at = (i & mask) * ENTRY;
    chunk.set(hash, at);
    chunk.set(bloom, at + HASH_LENGTH);
    this.count = i + 1;
  }

  /** The hash of entry `i` (a view: do not modify). */
  hash(i: number): Uint8Array {
    const at = (i & ((1 << this.shift) - 1)) * ENTRY;
    return this.chunks[i >>> this.shift]!.subarray(at, at + HASH_LENGTH);
  }

  /** The bloom of entry `i` (a view: do not modify). */
  bloom(i: number): Uint8Array {
    const at = (i & ((1 << this.shift) - 1)) * ENTRY + HASH_LENGTH;
    return this.chunks[i >>> this.shift]!.subarray(at, at + BLOOM_BYTE_LENGTH);
  }

  /**
   * Columns holding entries `[start, length)` where `start` is a multiple of the
   * section size (a commit), sharing their chunks. Only the new columns may be
   * appended to afterwards.
   */
  from(start: number): TailColumns {
    if (start % this.sectionSize !== 0) {
      throw new InvalidOptionError('start', `tail columns start at a section boundary, not ${start}`);
    }
    const n = Math.max(0, this.count - start);
    return new TailColumns(this.sectionSize, this.chunks.slice(start >>> this.shift), n);
  }

  /**
   * Columns holding entries `[0, keep)` (a rollback): whole chunks are shared,
   * the partial last one is copied, since appending would overwrite entries
   * that older snapshots still read.
   */
  upTo(keep: number): TailColumns {
    const n = Math.min(Math.max(0, keep), this.count);
    const whole = n >>> this.shift;
    const chunks = this.chunks.slice(0, whole);
    if ((n & ((1 << this.shift) - 1)) !== 0) chunks.push(this.chunks[whole]!.slice());
    return new TailColumns(this.sectionSize, chunks, n);
  }
}
