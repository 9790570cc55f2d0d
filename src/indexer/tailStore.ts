import { BLOOM_BYTE_LENGTH, HASH_LENGTH } from '../constants.js';
import { CorruptDataError } from '../errors.js';
import type { BloomBitsDb } from '../store/db.js';
import { decodeUint64, writeUint64 } from '../store/keys.js';
import { bytesToHex } from '../types/hex.js';
import type { TailColumns } from './tailColumns.js';

const VIEW = { keyEncoding: 'view', valueEncoding: 'view' } as const;
/** "iT" prefix: the tail's blocks, keyed by uint64 BE number. Not a go-ethereum key. */
const PREFIX = new Uint8Array([0x69, 0x54]);
/** "iCgenesis": the hash of block 0 of the chain this index holds. Not a go-ethereum key. */
export const GENESIS_KEY = new TextEncoder().encode('iCgenesis');

/** One tail block as persisted: its hash and logsBloom. */
export interface TailBlock {
  number: number;
  hash: Uint8Array;
  bloom: Uint8Array;
}

/** A put or del for one atomic `db.batch` (the store's `extraOps` take the same shape). */
export type TailOp = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array };

/** The key of tail block `n`. */
export function tailKey(n: number): Uint8Array {
  const key = new Uint8Array(10);
  key.set(PREFIX);
  writeUint64(key, 2, n);
  return key;
}

/** Puts of entries `[from, to)` of `tail` as tail entries; entry 0 is block `start`. */
export function tailPuts(tail: TailColumns, start: number, from: number, to: number): TailOp[] {
  const ops: TailOp[] = [];
  for (let i = from; i < to; i++) {
    const value = new Uint8Array(HASH_LENGTH + BLOOM_BYTE_LENGTH);
    value.set(tail.hash(i));
    value.set(tail.bloom(i), HASH_LENGTH);
    ops.push({ type: 'put', key: tailKey(start + i), value });
  }
  return ops;
}

/** Dels of the tail entries of blocks `[from, to)`. */
export function tailDels(from: number, to: number): TailOp[] {
  const ops: TailOp[] = [];
  for (let n = from; n < to; n++) ops.push({ type: 'del', key: tailKey(n) });
  return ops;
}

/** What {@link TailStore.load} finds. */
export interface LoadedTail {
  blocks: TailBlock[];
  /** The recorded hash of block 0, if any. */
  genesis: Uint8Array | undefined;
}

/**
 * Persists the unindexed tail (blocks not yet in a committed section) next to
 * the bloom bits, so a restart resumes where the last flush left off. Reading
 * never writes: entries below the committed range (which an older version could
 * leave after a crash) are skipped, not deleted.
 */
export class TailStore {
  constructor(private readonly db: BloomBitsDb) {}

  /**
   * The persisted tail from `from` (the first block past the committed sections) and the genesis hash.
   * @throws CorruptDataError naming the key when an entry is malformed or the entries do not
   * form one run starting at `from`.
   */
  async load(from: number): Promise<LoadedTail> {
    const blocks: TailBlock[] = [];
    for await (const [key, value] of this.db.iterator({
      ...VIEW,
      gte: tailKey(from),
      lt: tailKey(2 ** 53),
    })) {
      const k = key as Uint8Array;
      const v = value as Uint8Array;
      const number = k.length === 10 ? decodeUint64(k.subarray(2)) : undefined;
      if (number === undefined) {
        throw new CorruptDataError('malformed tail key', { key: `iT${bytesToHex(k).slice(2)}` });
      }
      if (v.length !== HASH_LENGTH + BLOOM_BYTE_LENGTH) {
        throw new CorruptDataError(`tail entry of block ${number} has ${v.length} bytes`, {
          key: `iT${number}`,
        });
      }
      const expected = from + blocks.length;
      if (number !== expected) {
        throw new CorruptDataError(
          `tail entry of block ${number} found where block ${expected} was expected (the tail must continue the committed sections without gaps)`,
          { key: `iT${number}` },
        );
      }
      blocks.push({ number, hash: v.slice(0, HASH_LENGTH), bloom: v.slice(HASH_LENGTH) });
    }
    const genesis = (await this.db.get(GENESIS_KEY, VIEW)) as Uint8Array | undefined;
    if (genesis !== undefined && genesis.length !== HASH_LENGTH) {
      throw new CorruptDataError(`genesis hash has ${genesis.length} bytes`, { key: 'iCgenesis' });
    }
    return { blocks, genesis: genesis === undefined ? undefined : genesis.slice() };
  }

  /** Runs `ops` in one atomic batch. */
  async batch(ops: readonly TailOp[]): Promise<void> {
    if (ops.length > 0) await this.db.batch(ops as never, VIEW);
  }
}
