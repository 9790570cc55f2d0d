import type { AbstractLevel } from 'abstract-level';
import { BLOOM_BYTE_LENGTH, HASH_LENGTH } from '../constants.js';
import { CorruptDataError } from '../errors.js';
import { decodeUint64, writeUint64 } from '../store/keys.js';

const VIEW = { keyEncoding: 'view', valueEncoding: 'view' } as const;
/** "iT" prefix: the tail's blocks, keyed by uint64 BE number. Not a go-ethereum key. */
const PREFIX = new Uint8Array([0x69, 0x54]);

/** One tail block as persisted: its hash and logsBloom. */
export interface TailBlock {
  number: number;
  hash: Uint8Array;
  bloom: Uint8Array;
}

function tailKey(n: number): Uint8Array {
  const key = new Uint8Array(10);
  key.set(PREFIX);
  writeUint64(key, 2, n);
  return key;
}

/**
 * Persists the unindexed tail (blocks not yet in a committed section) next to
 * the bloom bits, so a restart resumes where the last flush left off.
 */
export class TailStore {
  // biome-ignore lint/suspicious/noExplicitAny: any abstract-level flavour (classic, memory, browser, sublevel)
  constructor(private readonly db: AbstractLevel<any, any, any>) {}

  /** The contiguous run of persisted tail blocks starting at `from`. */
  async load(from: number): Promise<TailBlock[]> {
    const out: TailBlock[] = [];
    for await (const [key, value] of this.db.iterator({
      ...VIEW,
      gte: tailKey(from),
      lt: tailKey(2 ** 53),
    })) {
      const k = key as Uint8Array;
      const v = value as Uint8Array;
      const number = decodeUint64(k.subarray(2));
      if (number === undefined) throw new CorruptDataError('malformed tail key', { key: `iT${k.length}` });
      if (v.length !== HASH_LENGTH + BLOOM_BYTE_LENGTH) {
        throw new CorruptDataError(`tail entry of block ${number} has ${v.length} bytes`, {
          key: `iT${number}`,
        });
      }
      if (number !== from + out.length) break;
      out.push({ number, hash: v.slice(0, HASH_LENGTH), bloom: v.slice(HASH_LENGTH) });
    }
    return out;
  }

  /** Writes `blocks` and deletes tail entries in `[deleteFrom, deleteTo)`, in one batch. */
  async write(blocks: readonly TailBlock[], deleteFrom?: number, deleteTo?: number): Promise<void> {
    // biome-ignore lint/suspicious/noExplicitAny: batch operations are typed per db flavour
    const ops: any[] = [];
    if (deleteFrom !== undefined && deleteTo !== undefined) {
      for (let n = deleteFrom; n < deleteTo; n++) ops.push({ type: 'del', key: tailKey(n), ...VIEW });
    }
    for (const b of blocks) {
      const value = new Uint8Array(HASH_LENGTH + BLOOM_BYTE_LENGTH);
      value.set(b.hash);
      value.set(b.bloom, HASH_LENGTH);
      ops.push({ type: 'put', key: tailKey(b.number), value, ...VIEW });
    }
    if (ops.length > 0) await this.db.batch(ops, VIEW);
  }

  /** Deletes every tail entry below `to` (left over when a crash came between a commit and its clean-up). */
  async truncateBelow(to: number): Promise<void> {
    if (to > 0) await this.db.clear({ ...VIEW, gte: tailKey(0), lt: tailKey(to) });
  }

  /** Deletes every tail entry at or above `from`. */
  async truncate(from: number): Promise<void> {
    await this.db.clear({ ...VIEW, gte: tailKey(from), lt: tailKey(2 ** 53) });
  }
}
