import type { AbstractLevel } from 'abstract-level';
import { compressBytes, copyBytes, decompressBytes } from '../bitutil/index.js';
import { BLOOM_BIT_LENGTH, DEFAULT_SECTION_SIZE } from '../constants.js';
import { CorruptDataError, DecompressError, MissingSectionError, StoreError } from '../errors.js';
import {
  COUNT_KEY,
  decodeUint64,
  encodeUint64,
  HEAD_LENGTH,
  SECTION_SIZE_KEY,
  sectionHeadKey,
  VECTOR_KEY_LENGTH,
  vectorRange,
  writeVectorKey,
} from './keys.js';
import { assertOpen, levelCall } from './level-errors.js';

/** Any abstract-level database or sublevel (format-generic, so BrowserLevel fits too). */
// biome-ignore lint/suspicious/noExplicitAny: abstract-level's format and option types vary per backend
export type BloomBitsDb = AbstractLevel<any, any, any>;

/** Options of {@link BloomBitsStore.open}. */
export interface BloomBitsStoreOptions {
  /** Blocks per section; default: the size recorded in the db, else 4096. */
  sectionSize?: number;
}

/** Binary encodings passed to every call: the db or sublevel may default to utf8. */
const VIEW = { keyEncoding: 'view', valueEncoding: 'view' } as const;
/** Concurrent range deletions during a rollback. */
const CLEAR_CONCURRENCY = 64;

/**
 * The persistent bloom-bits index over an injected abstract-level db, in
 * go-ethereum's key layout (see keys.ts). Sections are append-only: section s
 * is written (all 2048 vectors, its head and count = s+1) in one atomic batch.
 *
 * Besides geth's keys it records "iB"+"ssize" (uint64 BE section size), so a db
 * reopened with a different section size fails with StoreError instead of
 * returning wrongly sized vectors. The store never closes the db it was given.
 * Stored count and head hashes are cached in memory; they change only through
 * this store's writeSection/rollbackTo.
 */
export class BloomBitsStore {
  /** Bytes per bit vector (sectionSize / 8). */
  readonly vectorLength: number;
  private count: number;
  private readonly heads = new Map<number, Uint8Array>();
  private writes: Promise<unknown> = Promise.resolve();

  private constructor(
    /** The injected database (or sublevel). */
    readonly db: BloomBitsDb,
    /** Blocks per section. */
    readonly sectionSize: number,
    count: number,
  ) {
    this.vectorLength = sectionSize >>> 3;
    this.count = count;
  }

  /**
   * Opens the store: opens the db if needed, reads the section count, and
   * checks (or records, on first use) the section size.
   * @throws StoreError on a bad or mismatched section size; CorruptDataError on malformed metadata.
   */
  static async open(db: BloomBitsDb, options: BloomBitsStoreOptions = {}): Promise<BloomBitsStore> {
    const requested = options.sectionSize;
    if (requested !== undefined) checkSectionSize(requested);
    if (db.status !== 'open') await levelCall(() => db.open());
    const [countValue, sizeValue] = await levelCall<(Uint8Array | undefined)[]>(() =>
      db.getMany([COUNT_KEY, SECTION_SIZE_KEY], VIEW),
    );
    const count = countValue === undefined ? 0 : decodeMeta(countValue, 'count');
    let sectionSize = requested ?? DEFAULT_SECTION_SIZE;
    if (sizeValue === undefined) {
      await levelCall(() => db.put(SECTION_SIZE_KEY, encodeUint64(sectionSize), VIEW));
    } else {
      const stored = decodeMeta(sizeValue, 'ssize');
      if (requested !== undefined && requested !== stored) {
        throw new StoreError(
          `section size mismatch: the db holds ${stored}-block sections, asked for ${requested}`,
        );
      }
      checkSectionSize(stored);
      sectionSize = stored;
    }
    return new BloomBitsStore(db, sectionSize, count);
  }

  /** Number of stored sections (sections 0..count-1 are readable). */
  async storedSections(): Promise<number> {
    assertOpen(this.db);
    return this.count;
  }

  /** Head hash (last block hash) of a stored section, or undefined when not stored. Fresh copy. */
  async sectionHead(section: number): Promise<Uint8Array | undefined> {
    assertOpen(this.db);
    if (!isSection(section) || section >= this.count) return undefined;
    const cached = this.heads.get(section);
    if (cached !== undefined) return copyBytes(cached);
    const value = await levelCall<Uint8Array | undefined>(() => this.db.get(sectionHeadKey(section), VIEW));
    if (value === undefined) return undefined;
    return copyBytes(this.cacheHead(section, value));
  }

  /**
   * Appends `section` (must equal the stored count): its 2048 compressed
   * vectors, its head hash and the new count, in one atomic batch.
   * @throws StoreError on a non-append section or wrong hash/vector lengths.
   */
  writeSection(section: number, headHash: Uint8Array, vectors: readonly Uint8Array[]): Promise<void> {
    return this.exclusive(async () => {
      assertOpen(this.db);
      if (section !== this.count) {
        throw new StoreError(`sections are append-only: expected section ${this.count}, got ${section}`);
      }
      if (!(headHash instanceof Uint8Array) || headHash.length !== HEAD_LENGTH) {
        throw new StoreError(`section head hash must be ${HEAD_LENGTH} bytes`);
      }
      if (vectors.length !== BLOOM_BIT_LENGTH) {
        throw new StoreError(`expected ${BLOOM_BIT_LENGTH} vectors, got ${vectors.length}`);
      }
      const head = copyBytes(headHash);
      const keys = new Uint8Array(BLOOM_BIT_LENGTH * VECTOR_KEY_LENGTH);
      const ops: { type: 'put'; key: Uint8Array; value: Uint8Array }[] = [];
      for (let bit = 0; bit < BLOOM_BIT_LENGTH; bit++) {
        const vector = vectors[bit]!;
        if (vector.length !== this.vectorLength) {
          throw new StoreError(
            `vector of bit ${bit} must be ${this.vectorLength} bytes, got ${vector.length}`,
          );
        }
        const at = bit * VECTOR_KEY_LENGTH;
        writeVectorKey(keys, at, bit, section, head);
        ops.push({
          type: 'put',
          key: keys.subarray(at, at + VECTOR_KEY_LENGTH),
          value: compressBytes(vector),
        });
      }
      ops.push({ type: 'put', key: sectionHeadKey(section), value: head });
      ops.push({ type: 'put', key: COUNT_KEY, value: encodeUint64(section + 1) });
      await levelCall(() => this.db.batch(ops, VIEW));
      this.heads.set(section, head);
      this.count = section + 1;
    });
  }

  /**
   * The vectors of `bit` for the given stored sections, in order, each a fresh
   * sectionSize/8-byte array: at most one getMany for uncached heads, then
   * one getMany for the vectors.
   * @throws MissingSectionError for an unstored section or absent vector; CorruptDataError for an undecodable value.
   */
  async readVectors(bit: number, sections: readonly number[]): Promise<Uint8Array[]> {
    assertOpen(this.db);
    if (!Number.isInteger(bit) || bit < 0 || bit >= BLOOM_BIT_LENGTH) {
      throw new RangeError(`bloom bit must be in 0..${BLOOM_BIT_LENGTH - 1}, got ${bit}`);
    }
    const n = sections.length;
    if (n === 0) return [];
    for (const s of sections) {
      if (!isSection(s) || s >= this.count) {
        throw new MissingSectionError(`section ${s} is not stored (${this.count} stored)`, s, bit);
      }
    }
    await this.loadHeads(bit, sections);
    const buf = new Uint8Array(n * VECTOR_KEY_LENGTH);
    const keys: Uint8Array[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const s = sections[i]!;
      const at = i * VECTOR_KEY_LENGTH;
      writeVectorKey(buf, at, bit, s, this.heads.get(s)!);
      keys[i] = buf.subarray(at, at + VECTOR_KEY_LENGTH);
    }
    const values = await levelCall<(Uint8Array | undefined)[]>(() => this.db.getMany(keys, VIEW));
    const out: Uint8Array[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const s = sections[i]!;
      const value = values[i];
      if (value === undefined) {
        throw new MissingSectionError(`vector of bit ${bit} for section ${s} is missing`, s, bit);
      }
      try {
        out[i] = decompressBytes(value, this.vectorLength);
      } catch (err) {
        if (!(err instanceof DecompressError)) throw err;
        throw new CorruptDataError(
          `vector of bit ${bit} for section ${s} does not decode (${err.code})`,
          { bit, section: s },
          { cause: err },
        );
      }
    }
    return out;
  }

  /**
   * Forgets sections >= `count`: first one batch lowers the stored count and
   * deletes their heads, then their vectors are deleted per bit with range
   * clears. Clears are not atomic with the batch, but since the count goes
   * first a crash only leaves unreferenced vectors, which no read can reach
   * (they are past the count or under another head) and which the next
   * rollbackTo sweeps: every call clears all vectors at or above the
   * resulting count, so `rollbackTo(storedSections())` is a garbage sweep.
   * A `count` above the stored count changes nothing else.
   */
  rollbackTo(count: number): Promise<void> {
    return this.exclusive(async () => {
      assertOpen(this.db);
      if (!isSection(count))
        throw new RangeError(`section count must be a non-negative integer, got ${count}`);
      const target = Math.min(count, this.count);
      if (target < this.count) {
        const ops: (
          | { type: 'put'; key: Uint8Array; value: Uint8Array }
          | { type: 'del'; key: Uint8Array }
        )[] = [{ type: 'put', key: COUNT_KEY, value: encodeUint64(target) }];
        for (let s = target; s < this.count; s++) ops.push({ type: 'del', key: sectionHeadKey(s) });
        await levelCall(() => this.db.batch(ops, VIEW));
        for (const s of [...this.heads.keys()]) if (s >= target) this.heads.delete(s);
        this.count = target;
      }
      for (let from = 0; from < BLOOM_BIT_LENGTH; from += CLEAR_CONCURRENCY) {
        const clears: Promise<void>[] = [];
        const to = Math.min(from + CLEAR_CONCURRENCY, BLOOM_BIT_LENGTH);
        for (let bit = from; bit < to; bit++) {
          clears.push(levelCall(() => this.db.clear({ ...vectorRange(bit, target), keyEncoding: 'view' })));
        }
        await Promise.all(clears);
      }
    });
  }

  /** Fills the head cache for `sections` with one getMany of the missing heads. */
  private async loadHeads(bit: number, sections: readonly number[]): Promise<void> {
    let missing: number[] | undefined;
    for (const s of sections) {
      if (!this.heads.has(s)) (missing ??= []).push(s);
    }
    if (missing === undefined) return;
    const wanted = [...new Set(missing)];
    const values = await levelCall<(Uint8Array | undefined)[]>(() =>
      this.db.getMany(wanted.map(sectionHeadKey), VIEW),
    );
    wanted.forEach((s, i) => {
      const value = values[i];
      if (value === undefined) throw new MissingSectionError(`head of section ${s} is missing`, s, bit);
      this.cacheHead(s, value);
    });
  }

  /** Validates and caches a fetched head hash (copied: fetched buffers may be shared). */
  private cacheHead(section: number, value: Uint8Array): Uint8Array {
    if (value.length !== HEAD_LENGTH) {
      throw new CorruptDataError(`head of section ${section} is ${value.length} bytes, not ${HEAD_LENGTH}`, {
        section,
      });
    }
    const head = copyBytes(value);
    this.heads.set(section, head);
    return head;
  }

  /** Runs mutations one at a time, so count checks and batches cannot interleave. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.writes.then(fn, fn);
    this.writes = run.catch(() => undefined);
    return run;
  }
}

/** True for a non-negative safe integer (a section number or count). */
function isSection(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/** Throws StoreError unless `size` is a positive multiple of 8. */
function checkSectionSize(size: number): void {
  if (!Number.isSafeInteger(size) || size <= 0 || size % 8 !== 0) {
    throw new StoreError(`section size must be a positive multiple of 8, got ${size}`);
  }
}

/** Decodes a uint64 metadata value or throws CorruptDataError naming its key. */
function decodeMeta(value: Uint8Array, name: string): number {
  const n = decodeUint64(value);
  if (n === undefined) throw new CorruptDataError(`metadata "iB${name}" is malformed`, { key: `iB${name}` });
  return n;
}
