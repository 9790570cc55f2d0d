import { decompressBytes } from '../bitutil/index.js';
import { BLOOM_BIT_LENGTH, BLOOM_BYTE_LENGTH, HASH_LENGTH } from '../constants.js';
import { CorruptDataError, DecompressError } from '../errors.js';
import { CHECKSUM_LENGTH, sectionChecksum } from './checksum.js';
import {
  CSUM_PREFIX,
  decodeUint64,
  keyName,
  TAIL_PREFIX,
  uint64Range,
  VECTOR_KEY_LENGTH,
  writeVectorKey,
} from './keys.js';
import { assertOpen, levelCall } from './level-errors.js';
import { type ReadOptions, readMeta, type StoreMeta } from './meta.js';
import { type BloomBitsDb, BloomBitsStore, sameBytes } from './store.js';

/** Options of {@link verifyStore}. */
export interface VerifyOptions {
  /** Called after each section with (sections done, sections in total). */
  onProgress?: (done: number, total: number) => void;
  /** Aborts the check: the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** One inconsistency found by {@link verifyStore}. */
export interface VerifyProblem {
  /** The key at fault: 'iBcount', 'iBssize', 'iBshead/12', 'iBcsum/3', 'B/<bit>/<section>', 'iT/<block>'. */
  key: string;
  section?: number;
  bit?: number;
  message: string;
}

/** What {@link verifyStore} checked and found. */
export interface VerifyReport {
  /** Blocks per section (0 when the metadata could not be read). */
  sectionSize: number;
  /** Stored sections per "iBcount" (0 when the metadata could not be read). */
  sections: number;
  /** Sections whose checksum was compared. */
  checked: number;
  /** Sections without a checksum (written by go-ethereum or an older rx-bloombits): vectors decoded only. */
  unverifiable: number;
  /** The unindexed tail: its contiguous run of entries starting at block sections × sectionSize. */
  tail: { from: number; length: number };
  /** Everything wrong; empty for a sound store. */
  problems: VerifyProblem[];
}

const VIEW = { keyEncoding: 'view', valueEncoding: 'view' } as const;
const TAIL_VALUE_LENGTH = HASH_LENGTH + BLOOM_BYTE_LENGTH;

/**
 * Checks a store end to end without writing: metadata consistency (count,
 * heads, "iBssize", "iBcfrom"), every vector of every section present and
 * decompressing to sectionSize/8 bytes, every checksum present where due and
 * matching, and the tail ("iT" entries) contiguous from sections × sectionSize
 * with 288-byte values. Reads one consistent snapshot when the db supports
 * explicit snapshots, else holds off the store's writes while it runs.
 *
 * Given a db rather than a store, opens it read-only first; metadata that does
 * not open is reported as a problem, not thrown.
 * @throws StoreError/DatabaseClosedError from opening; the signal's reason when aborted.
 * @example
 * ```ts
 * const report = await verifyStore(db, { signal: AbortSignal.timeout(60_000) });
 * if (report.problems.length > 0) console.error(report.problems);
 * ```
 */
export async function verifyStore(
  target: BloomBitsStore | BloomBitsDb,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  let store: BloomBitsStore;
  if (target instanceof BloomBitsStore) {
    store = target;
  } else {
    try {
      store = await BloomBitsStore.open(target, { readOnly: true });
    } catch (err) {
      if (!(err instanceof CorruptDataError)) throw err;
      return failedMeta(err);
    }
  }
  options.signal?.throwIfAborted();
  const db = store.db;
  // Level errors from iterators and snapshots surface as DatabaseClosedError like every other call.
  return levelCall(async () => {
    assertOpen(db);
    if (db.supports.explicitSnapshots === true) {
      // Taken between writes, so it matches the store's in-memory heads.
      const [snapshot, known] = await store.whileIdle(async () => [db.snapshot(), store.heads()] as const);
      try {
        return await check(store, known, { ...VIEW, snapshot }, options);
      } finally {
        await snapshot.close();
      }
    }
    return store.whileIdle(() => check(store, store.heads(), VIEW, options));
  });
}

/** The report of a db whose metadata does not open. */
function failedMeta(err: CorruptDataError): VerifyReport {
  const { key = 'metadata', section, bit } = err.details;
  const problem: VerifyProblem = { key, message: err.message };
  if (section !== undefined) problem.section = section;
  if (bit !== undefined) problem.bit = bit;
  return {
    sectionSize: 0,
    sections: 0,
    checked: 0,
    unverifiable: 0,
    tail: { from: 0, length: 0 },
    problems: [problem],
  };
}

/** Checks what `opts` reads against the store's heads at that moment (`known`). */
async function check(
  store: BloomBitsStore,
  known: readonly Uint8Array[],
  opts: ReadOptions,
  options: VerifyOptions,
): Promise<VerifyReport> {
  const db = store.db;
  let meta: StoreMeta;
  try {
    meta = await readMeta(db, opts);
  } catch (err) {
    if (!(err instanceof CorruptDataError)) throw err;
    return { ...failedMeta(err), sectionSize: store.sectionSize };
  }
  const { sectionSize } = store;
  const problems: VerifyProblem[] = [];
  const heads = meta.heads;
  const count = meta.count;
  if (known.length !== count || known.some((h, s) => !sameBytes(h, heads[s]!))) {
    problems.push({
      key: 'iBcount',
      message: 'the db no longer matches the open store (changed behind its back)',
    });
  }
  const checksums = await readChecksums(db, opts, meta, problems);
  if (meta.storedSize === undefined && meta.checksumFrom !== undefined) {
    problems.push({ key: 'iBssize', message: '"iBssize" is missing although sections carry checksums' });
  } else if (meta.storedSize !== undefined && meta.storedSize !== sectionSize) {
    problems.push({
      key: 'iBssize',
      message: `"iBssize" says ${meta.storedSize}, the store uses ${sectionSize}`,
    });
  }

  let checked = 0;
  const fetch = (s: number) => levelCall(() => db.getMany(sectionKeys(s, heads[s]!), opts));
  let next: Promise<(Uint8Array | undefined)[]> | undefined = count > 0 ? fetch(0) : undefined;
  try {
    for (let s = 0; s < count; s++) {
      options.signal?.throwIfAborted();
      const values = await next!;
      next = s + 1 < count ? fetch(s + 1) : undefined;
      checkVectors(s, values, sectionSize >>> 3, problems);
      const stored = checksums.get(s);
      if (stored !== undefined) {
        checked++;
        const present = values.map((v) => v ?? new Uint8Array(0));
        if (!sameBytes(stored, sectionChecksum(sectionSize, s, heads[s]!, present))) {
          problems.push({
            key: `iBcsum/${s}`,
            section: s,
            message: `section ${s} does not match its checksum`,
          });
        }
      }
      options.onProgress?.(s + 1, count);
    }
  } finally {
    next?.catch(() => undefined); // an abort leaves at most one read in flight
  }
  const tail = await checkTail(db, opts, count * sectionSize, problems);
  return { sectionSize, sections: count, checked, unverifiable: count - checked, tail, problems };
}

/** The 2048 vector keys of section `s` under `head`. */
function sectionKeys(s: number, head: Uint8Array): Uint8Array[] {
  const buf = new Uint8Array(BLOOM_BIT_LENGTH * VECTOR_KEY_LENGTH);
  const keys: Uint8Array[] = new Array(BLOOM_BIT_LENGTH);
  for (let bit = 0; bit < BLOOM_BIT_LENGTH; bit++) {
    const at = bit * VECTOR_KEY_LENGTH;
    writeVectorKey(buf, at, bit, s, head);
    keys[bit] = buf.subarray(at, at + VECTOR_KEY_LENGTH);
  }
  return keys;
}

/** Reports absent vectors and values that do not decompress to `length` bytes. */
function checkVectors(
  s: number,
  values: (Uint8Array | undefined)[],
  length: number,
  problems: VerifyProblem[],
): void {
  for (let bit = 0; bit < BLOOM_BIT_LENGTH; bit++) {
    const value = values[bit];
    const key = `B/${bit}/${s}`;
    if (value === undefined) {
      problems.push({ key, section: s, bit, message: `vector of bit ${bit} for section ${s} is missing` });
      continue;
    }
    try {
      decompressBytes(value, length);
    } catch (err) {
      if (!(err instanceof DecompressError)) throw err;
      problems.push({
        key,
        section: s,
        bit,
        message: `vector of bit ${bit} for section ${s} does not decode (${err.reason})`,
      });
    }
  }
}

/**
 * All checksums, by section, reporting malformed ones, ones outside
 * "iBcfrom".."iBcount"-1 and missing ones inside it.
 */
async function readChecksums(
  db: BloomBitsDb,
  opts: ReadOptions,
  meta: StoreMeta,
  problems: VerifyProblem[],
): Promise<Map<number, Uint8Array>> {
  const out = new Map<number, Uint8Array>();
  const from = meta.checksumFrom ?? meta.count;
  for await (const [k, v] of db.iterator({ ...opts, ...uint64Range(CSUM_PREFIX) })) {
    const key = k as Uint8Array;
    const value = v as Uint8Array;
    const name = keyName(key);
    const s =
      key.length === CSUM_PREFIX.length + 8 ? decodeUint64(key.subarray(CSUM_PREFIX.length)) : undefined;
    if (s === undefined) {
      problems.push({ key: name, message: `malformed checksum key ${name}` });
    } else if (s >= meta.count || s < from) {
      const why =
        s >= meta.count
          ? 'past "iBcount"'
          : meta.checksumFrom === undefined
            ? 'without "iBcfrom"'
            : 'below "iBcfrom"';
      problems.push({ key: name, section: s, message: `checksum of section ${s} is stored ${why}` });
    } else if (value.length !== CHECKSUM_LENGTH) {
      problems.push({ key: name, section: s, message: `checksum of section ${s} is ${value.length} bytes` });
    } else {
      out.set(s, value);
    }
  }
  for (let s = from; s < meta.count; s++) {
    if (!out.has(s) && !problems.some((p) => p.key === `iBcsum/${s}`)) {
      problems.push({ key: `iBcsum/${s}`, section: s, message: `checksum of section ${s} is missing` });
    }
  }
  return out;
}

/** Checks the tail entries: contiguous from block `start`, 288-byte values. */
async function checkTail(
  db: BloomBitsDb,
  opts: ReadOptions,
  start: number,
  problems: VerifyProblem[],
): Promise<{ from: number; length: number }> {
  let expected = start;
  let contiguous = true;
  for await (const [k, v] of db.iterator({ ...opts, ...uint64Range(TAIL_PREFIX) })) {
    const key = k as Uint8Array;
    const name = keyName(key);
    const n =
      key.length === TAIL_PREFIX.length + 8 ? decodeUint64(key.subarray(TAIL_PREFIX.length)) : undefined;
    if (n === undefined) {
      problems.push({ key: name, message: `malformed tail key ${name}` });
      continue;
    }
    if ((v as Uint8Array).length !== TAIL_VALUE_LENGTH) {
      problems.push({
        key: name,
        message: `tail entry of block ${n} is ${(v as Uint8Array).length} bytes, not ${TAIL_VALUE_LENGTH}`,
      });
    }
    if (n < start) {
      problems.push({
        key: name,
        message: `tail entry of block ${n} lies below the indexed sections (tail starts at ${start})`,
      });
    } else if (n !== expected) {
      if (contiguous) problems.push({ key: name, message: `tail jumps from block ${expected} to ${n}` });
      contiguous = false;
    } else if (contiguous) {
      expected++;
    }
  }
  return { from: start, length: expected - start };
}
