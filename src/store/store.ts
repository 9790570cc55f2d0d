import { copyBytes, decompressBytes } from '../bitutil/index.js';
import { BLOOM_BIT_LENGTH } from '../constants.js';
import { CorruptDataError, DecompressError, MissingSectionError, StoreError } from '../errors.js';
import { packedChecksum, packSection } from './checksum.js';
import type { BloomBitsDb } from './db.js';
import {
  CHECKSUM_FROM_KEY,
  COUNT_KEY,
  decodeUint64,
  encodeUint64,
  HEAD_LENGTH,
  SECTION_SIZE_KEY,
  sectionChecksumKey,
  sectionHeadKey,
  VECTOR_KEY_LENGTH,
  vectorRange,
  writeVectorKey,
} from './keys.js';
import { assertOpen, levelCall } from './level-errors.js';
import { checkSectionSize, readMeta, resolveSectionSize } from './meta.js';
import { type VerifyOptions, type VerifyReport, verifyStore } from './verify.js';
import { writeBatch } from './writeBatch.js';

export type { BloomBitsDb } from './db.js';

/** One operation of an atomic batch, with binary key and value. */
export type LevelBatchOp =
  | { type: 'put'; key: Uint8Array; value: Uint8Array }
  | { type: 'del'; key: Uint8Array };

/** Options of {@link BloomBitsStore.open}. */
export interface BloomBitsStoreOptions {
  /**
   * Blocks per section; default: the size recorded in the db, else the one its
   * stored vectors decode at (a go-ethereum db records none), else 4096.
   */
  sectionSize?: number;
  /** Refuse every mutation (writeSection, rollbackTo, sweep throw StoreError). */
  readOnly?: boolean;
}

/** Options of {@link BloomBitsStore.rollbackTo}. */
export interface RollbackOptions {
  /** Further puts/dels committed in the same atomic batch (e.g. tail entries). */
  extraOps?: readonly LevelBatchOp[];
  /**
   * Range-clear the dropped sections' vectors right away (default true). Pass
   * false while queries may still read them under their old heads, then call
   * {@link BloomBitsStore.sweep}.
   */
  sweep?: boolean;
}

/** Binary encodings passed to every call: the db or sublevel may default to utf8. */
const VIEW = { keyEncoding: 'view', valueEncoding: 'view' } as const;
/** Concurrent range deletions during a sweep. */
const CLEAR_CONCURRENCY = 64;

/**
 * The persistent bloom-bits index over an injected abstract-level db, in
 * go-ethereum's key layout (see keys.ts). Sections are append-only: section s
 * is written (all 2048 vectors, its head, its checksum and count = s+1) in one
 * atomic batch.
 *
 * Opening never writes: it reads and cross-checks the metadata (count against
 * the heads, all of which are held in memory) and the section size, which is
 * recorded as "iBssize" with the first written section (a go-ethereum db has
 * none: the size is then detected from the stored vectors). The store never
 * closes the db it was given. Count and heads change only through this store.
 */
export class BloomBitsStore<D extends BloomBitsDb = BloomBitsDb> {
  /** Bytes per bit vector (sectionSize / 8). */
  readonly vectorLength: number;
  private headList: readonly Uint8Array[];
  private writes: Promise<unknown> = Promise.resolve();
  /** writeSection's compression buffer, kept between sections (see packSection). */
  private packScratch: Uint8Array | undefined;
  /** Lowest section rolled back without a sweep since this store opened (its old vectors may linger). */
  private unsweptFrom = Number.POSITIVE_INFINITY;

  private constructor(
    /** The injected database (or sublevel). */
    readonly db: D,
    /** Blocks per section. */
    readonly sectionSize: number,
    /** True when opened with `readOnly`. */
    readonly readOnly: boolean,
    heads: Uint8Array[],
    private sizeStored: boolean,
    private checksumFrom: number | undefined,
  ) {
    this.vectorLength = sectionSize >>> 3;
    this.headList = Object.freeze(heads);
  }

  /**
   * Opens the store: opens the db if needed, reads and checks the metadata and
   * settles the section size. Never writes.
   * @throws StoreError on a bad section size or one the db contradicts; CorruptDataError (with `details.key`) on inconsistent metadata.
   */
  static async open<D extends BloomBitsDb>(
    db: D,
    options: BloomBitsStoreOptions = {},
  ): Promise<BloomBitsStore<D>> {
    const requested = options.sectionSize;
    if (requested !== undefined) checkSectionSize(requested);
    if (db.status !== 'open') await levelCall(() => db.open());
    const meta = await readMeta(db, VIEW);
    const sectionSize = await resolveSectionSize(db, VIEW, meta, requested);
    return new BloomBitsStore(
      db,
      sectionSize,
      options.readOnly === true,
      meta.heads,
      meta.storedSize !== undefined,
      meta.checksumFrom,
    );
  }

  /**
   * Head hashes of sections 0..count-1: a frozen array that writeSection and
   * rollbackTo replace, never change, so it can be kept as a snapshot for
   * {@link readVectors}. Its byte arrays are shared: do not modify them.
   */
  heads(): readonly Uint8Array[] {
    return this.headList;
  }

  /** Number of stored sections (sections 0..count-1 are readable). */
  async storedSections(): Promise<number> {
    assertOpen(this.db);
    return this.headList.length;
  }

  /** Head hash (last block hash) of a stored section, or undefined when not stored. Fresh copy. */
  async sectionHead(section: number): Promise<Uint8Array | undefined> {
    assertOpen(this.db);
    const head = Number.isSafeInteger(section) && section >= 0 ? this.headList[section] : undefined;
    return head === undefined ? undefined : copyBytes(head);
  }

  /**
   * Appends `section` (must equal the stored count): its 2048 compressed
   * vectors, its head hash, its checksum, the new count and `extraOps`, in one
   * atomic batch (plus "iBssize"/"iBcfrom" when not yet recorded).
   * @throws StoreError on a non-append section, wrong hash/vector lengths, bad extraOps or a read-only store.
   */
  writeSection(
    section: number,
    headHash: Uint8Array,
    vectors: readonly Uint8Array[],
    extraOps: readonly LevelBatchOp[] = [],
  ): Promise<void> {
    return this.exclusive(async () => {
      this.assertWritable();
      const count = this.headList.length;
      if (section !== count) {
        throw new StoreError(`sections are append-only: expected section ${count}, got ${section}`);
      }
      if (!(headHash instanceof Uint8Array) || headHash.length !== HEAD_LENGTH) {
        throw new StoreError(`section head hash must be ${HEAD_LENGTH} bytes`);
      }
      if (vectors.length !== BLOOM_BIT_LENGTH) {
        throw new StoreError(`expected ${BLOOM_BIT_LENGTH} vectors, got ${vectors.length}`);
      }
      checkOps(extraOps);
      const head = copyBytes(headHash);
      const keys = new Uint8Array(BLOOM_BIT_LENGTH * VECTOR_KEY_LENGTH);
      for (let bit = 0; bit < BLOOM_BIT_LENGTH; bit++) {
        const length = vectors[bit]?.length;
        if (length !== this.vectorLength) {
          throw new StoreError(`vector of bit ${bit} must be ${this.vectorLength} bytes, got ${length}`);
        }
        writeVectorKey(keys, bit * VECTOR_KEY_LENGTH, bit, section, head);
      }
      this.packScratch ??= new Uint8Array(16 + HEAD_LENGTH + BLOOM_BIT_LENGTH * (4 + this.vectorLength));
      const packed = packSection(this.sectionSize, section, head, vectors, this.packScratch);
      const checksum = await packedChecksum(packed);
      const ops: LevelBatchOp[] = new Array(BLOOM_BIT_LENGTH);
      for (let bit = 0; bit < BLOOM_BIT_LENGTH; bit++) {
        const at = bit * VECTOR_KEY_LENGTH;
        ops[bit] = {
          type: 'put',
          key: keys.subarray(at, at + VECTOR_KEY_LENGTH),
          value: packed.values[bit]!,
        };
      }
      ops.push({ type: 'put', key: sectionHeadKey(section), value: head });
      ops.push({ type: 'put', key: sectionChecksumKey(section), value: checksum });
      ops.push({ type: 'put', key: COUNT_KEY, value: encodeUint64(section + 1) });
      if (!this.sizeStored) {
        ops.push({ type: 'put', key: SECTION_SIZE_KEY, value: encodeUint64(this.sectionSize) });
      }
      if (this.checksumFrom === undefined) {
        ops.push({ type: 'put', key: CHECKSUM_FROM_KEY, value: encodeUint64(section) });
      }
      ops.push(...extraOps);
      await writeBatch(this.db, ops);
      this.sizeStored = true;
      this.checksumFrom ??= section;
      this.headList = Object.freeze([...this.headList, head]);
    });
  }

  /**
   * The vectors of `bit` for the given sections, in order, each a fresh
   * sectionSize/8-byte array, read with one getMany. With `heads` (an earlier
   * {@link heads} result) the sections are read under those heads, so a query
   * keeps a consistent view across a rollback that defers its sweep.
   * @throws MissingSectionError for a section past the heads or an absent vector; CorruptDataError for an undecodable value; StoreError for a bad bit.
   */
  async readVectors(
    bit: number,
    sections: readonly number[],
    heads: readonly Uint8Array[] = this.headList,
  ): Promise<Uint8Array[]> {
    assertOpen(this.db);
    if (!Number.isInteger(bit) || bit < 0 || bit >= BLOOM_BIT_LENGTH) {
      throw new StoreError(`bloom bit must be in 0..${BLOOM_BIT_LENGTH - 1}, got ${bit}`);
    }
    const n = sections.length;
    if (n === 0) return [];
    const buf = new Uint8Array(n * VECTOR_KEY_LENGTH);
    const keys: Uint8Array[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const s = sections[i]!;
      const head = Number.isSafeInteger(s) && s >= 0 ? heads[s] : undefined;
      if (head === undefined) {
        throw new MissingSectionError(`section ${s} is not stored (${heads.length} stored)`, s, bit);
      }
      const at = i * VECTOR_KEY_LENGTH;
      writeVectorKey(buf, at, bit, s, head);
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
          `vector of bit ${bit} for section ${s} does not decode (${err.reason})`,
          { bit, section: s },
          { cause: err },
        );
      }
    }
    return out;
  }

  /**
   * Forgets sections >= `count`: one atomic batch lowers the stored count and
   * deletes their heads and checksums (with `extraOps`); then, unless
   * `sweep: false`, {@link sweep} deletes their vectors. Vectors left behind
   * (deferred sweep, or a crash before it) are unreferenced: past the count or
   * under another head, so no read reaches them. A `count` at or above the
   * stored count changes no section.
   * @throws StoreError on a bad count, bad extraOps or a read-only store.
   */
  rollbackTo(count: number, options: RollbackOptions = {}): Promise<void> {
    return this.exclusive(async () => {
      this.assertWritable();
      if (!Number.isSafeInteger(count) || count < 0) {
        throw new StoreError(`section count must be a non-negative integer, got ${count}`);
      }
      const extraOps = options.extraOps ?? [];
      checkOps(extraOps);
      const stored = this.headList.length;
      const target = Math.min(count, stored);
      if (target < stored || extraOps.length > 0) {
        const ops: LevelBatchOp[] = [];
        if (target < stored) {
          ops.push({ type: 'put', key: COUNT_KEY, value: encodeUint64(target) });
          for (let s = target; s < stored; s++) {
            ops.push({ type: 'del', key: sectionHeadKey(s) }, { type: 'del', key: sectionChecksumKey(s) });
          }
          if (this.checksumFrom !== undefined && this.checksumFrom > target) {
            ops.push({ type: 'put', key: CHECKSUM_FROM_KEY, value: encodeUint64(target) });
          }
        }
        ops.push(...extraOps);
        await levelCall(() => this.db.batch(ops, VIEW));
        if (this.checksumFrom !== undefined) this.checksumFrom = Math.min(this.checksumFrom, target);
        this.headList = Object.freeze(this.headList.slice(0, target));
        this.unsweptFrom = Math.min(this.unsweptFrom, target);
      }
      if (options.sweep !== false) await this.sweepNow();
    });
  }

  /**
   * Deletes unreferenced vectors: every vector at or above the stored count,
   * and those of sections rolled back (without a sweep) and rewritten since,
   * which live under their old heads.
   * @throws StoreError on a read-only store.
   */
  sweep(): Promise<void> {
    return this.exclusive(async () => {
      this.assertWritable();
      await this.sweepNow();
    });
  }

  /**
   * Checks the whole store without writing; see {@link verifyStore}.
   */
  verify(options?: VerifyOptions): Promise<VerifyReport> {
    return verifyStore(this, options);
  }

  /** @internal Runs `fn` while no mutation runs (verify: to snapshot, or to read a db without snapshots). */
  whileIdle<T>(fn: () => Promise<T>): Promise<T> {
    return this.exclusive(fn);
  }

  private async sweepNow(): Promise<void> {
    const count = this.headList.length;
    const rewritten = Math.min(this.unsweptFrom, count);
    for (let from = 0; from < BLOOM_BIT_LENGTH; from += CLEAR_CONCURRENCY) {
      const clears: Promise<void>[] = [];
      const to = Math.min(from + CLEAR_CONCURRENCY, BLOOM_BIT_LENGTH);
      for (let bit = from; bit < to; bit++) {
        clears.push(levelCall(() => this.db.clear({ ...vectorRange(bit, count), keyEncoding: 'view' })));
        if (rewritten < count) clears.push(this.sweepStale(bit, rewritten, count));
      }
      await Promise.all(clears);
    }
    this.unsweptFrom = Number.POSITIVE_INFINITY;
  }

  /** Deletes vectors of `bit` in sections [from, to) stored under a head other than the current one. */
  private async sweepStale(bit: number, from: number, to: number): Promise<void> {
    const range = vectorRange(bit, from);
    const stale: LevelBatchOp[] = [];
    for await (const key of this.db.keys({
      gte: range.gte,
      lt: vectorRange(bit, to).gte,
      keyEncoding: 'view',
    })) {
      const k = key as Uint8Array;
      const s = decodeUint64(k.subarray(3, 11));
      const head = s === undefined ? undefined : this.headList[s];
      if (head === undefined || !sameBytes(k.subarray(11), head)) stale.push({ type: 'del', key: k });
    }
    if (stale.length > 0) await levelCall(() => this.db.batch(stale, VIEW));
  }

  private assertWritable(): void {
    assertOpen(this.db);
    if (this.readOnly) throw new StoreError('the store was opened read-only');
  }

  /** Runs mutations one at a time, so count checks and batches cannot interleave. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.writes.then(fn, fn);
    this.writes = run.catch(() => undefined);
    return run;
  }
}

/** Throws StoreError unless every op is a put/del with a binary key (and value). */
function checkOps(ops: readonly LevelBatchOp[]): void {
  for (const op of ops) {
    const ok =
      op !== null &&
      typeof op === 'object' &&
      op.key instanceof Uint8Array &&
      (op.type === 'del' || (op.type === 'put' && op.value instanceof Uint8Array));
    if (!ok)
      throw new StoreError(
        'extraOps must be {type: "put", key, value} or {type: "del", key} with Uint8Array bytes',
      );
  }
}

/** Byte equality. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
