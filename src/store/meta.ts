import { copyBytes, decompressBytes } from '../bitutil/index.js';
import { DEFAULT_SECTION_SIZE } from '../constants.js';
import { CorruptDataError, DecompressError, StoreError } from '../errors.js';
import { isSectionSize, SECTION_SIZE_RULE } from '../types/sectionSize.js';
import {
  CHECKSUM_FROM_KEY,
  COUNT_KEY,
  decodeUint64,
  HEAD_LENGTH,
  keyName,
  SECTION_SIZE_KEY,
  SHEAD_PREFIX,
  uint64Range,
  VECTOR_PREFIX,
} from './keys.js';
import { levelCall } from './level-errors.js';

type Db = import('./db.js').BloomBitsDb;

/** Read options: binary encodings, plus an optional explicit snapshot. */
// biome-ignore lint/suspicious/noExplicitAny: the snapshot type varies per backend
export type ReadOptions = { keyEncoding: 'view'; valueEncoding: 'view'; snapshot?: any };

/** The checked metadata of a store. */
export interface StoreMeta {
  /** Stored sections ("iBcount"). */
  count: number;
  /** Head hashes of sections 0..count-1 (fresh copies). */
  heads: Uint8Array[];
  /** "iBssize", when stored. */
  storedSize: number | undefined;
  /** "iBcfrom", when stored. */
  checksumFrom: number | undefined;
}

/** Vector lengths tried when detecting an unrecorded section size: sections of 8..2^20 blocks (powers of two). */
const DETECT_LENGTHS = Array.from({ length: 18 }, (_, i) => 2 ** i);
/** Non-empty vectors sampled to detect or confirm the section size, and the keys scanned to find them. */
const SAMPLES = 8;
const SAMPLE_SCAN = 4096;

/** Throws StoreError unless `size` is a valid section size ({@link isSectionSize}). */
export function checkSectionSize(size: number): void {
  if (!isSectionSize(size)) {
    throw new StoreError(`section size must be ${SECTION_SIZE_RULE}, got ${size}`);
  }
}

/** Decodes a uint64 metadata value or throws CorruptDataError naming its key. */
function decodeMeta(value: Uint8Array, key: string): number {
  const n = decodeUint64(value);
  if (n === undefined) throw new CorruptDataError(`metadata "${key}" is malformed`, { key });
  return n;
}

/**
 * Reads and cross-checks count, heads, section size and checksum start, never
 * writing: "iBcount" must decode, heads must exist for exactly the sections
 * 0..count-1 (one iterator over the head range), "iBcfrom" must not exceed the
 * count. A rollback deletes heads in the batch that lowers the count, so a head
 * at or past the count, or a missing one, means damaged metadata.
 * @throws CorruptDataError whose `details.key` names the inconsistent key.
 */
export async function readMeta(db: Db, opts: ReadOptions): Promise<StoreMeta> {
  const [countValue, sizeValue, fromValue] = await levelCall<(Uint8Array | undefined)[]>(() =>
    db.getMany([COUNT_KEY, SECTION_SIZE_KEY, CHECKSUM_FROM_KEY], opts),
  );
  const count = countValue === undefined ? 0 : decodeMeta(countValue, 'iBcount');
  const storedSize = sizeValue === undefined ? undefined : decodeMeta(sizeValue, 'iBssize');
  if (storedSize !== undefined && !isSectionSize(storedSize)) {
    throw new CorruptDataError(`metadata "iBssize" holds an invalid section size ${storedSize}`, {
      key: 'iBssize',
    });
  }
  const checksumFrom = fromValue === undefined ? undefined : decodeMeta(fromValue, 'iBcfrom');
  if (checksumFrom !== undefined && checksumFrom > count) {
    throw new CorruptDataError(`metadata "iBcfrom" (${checksumFrom}) exceeds "iBcount" (${count})`, {
      key: 'iBcfrom',
    });
  }
  const heads: Uint8Array[] = [];
  // One past the count is enough to see a head that should not be there.
  const limit = count < 2 ** 31 ? count + 1 : -1;
  const it = db.iterator({ ...opts, ...uint64Range(SHEAD_PREFIX), limit });
  try {
    for (;;) {
      const entry = await levelCall(() => it.next());
      if (entry === undefined) break;
      const key = entry[0] as Uint8Array;
      const value = entry[1] as Uint8Array;
      const name = keyName(key);
      const section = key.length === SHEAD_PREFIX.length + 8 ? decodeUint64(key.subarray(7)) : undefined;
      if (section === undefined) throw new CorruptDataError(`malformed head key ${name}`, { key: name });
      if (section >= count) {
        throw new CorruptDataError(
          `head ${name} is stored at or past "iBcount" (${count}): the count is damaged`,
          { key: 'iBcount', section },
        );
      }
      if (section !== heads.length) {
        const missing = `iBshead/${heads.length}`;
        throw new CorruptDataError(`head ${missing} is missing`, { key: missing, section: heads.length });
      }
      if (value.length !== HEAD_LENGTH) {
        throw new CorruptDataError(`head ${name} is ${value.length} bytes, not ${HEAD_LENGTH}`, {
          key: name,
          section,
        });
      }
      heads.push(copyBytes(value));
    }
  } finally {
    await it.close();
  }
  if (heads.length < count) {
    throw new CorruptDataError(
      `"iBcount" says ${count} sections but heads stop at iBshead/${heads.length}: the count is damaged or the last heads are missing`,
      { key: 'iBcount', section: heads.length },
    );
  }
  return { count, heads, storedSize, checksumFrom };
}

/** Up to {@link SAMPLES} non-empty stored vector values (with their key names), from the start of the 'B' range. */
async function sampleVectors(db: Db, opts: ReadOptions): Promise<{ name: string; value: Uint8Array }[]> {
  const out: { name: string; value: Uint8Array }[] = [];
  const it = db.iterator({
    ...opts,
    gte: Uint8Array.of(VECTOR_PREFIX),
    lt: Uint8Array.of(VECTOR_PREFIX + 1),
    limit: SAMPLE_SCAN,
  });
  try {
    for (;;) {
      const entry = await levelCall(() => it.next());
      if (entry === undefined || out.length >= SAMPLES) break;
      const value = entry[1] as Uint8Array;
      if (value.length > 0) out.push({ name: keyName(entry[0] as Uint8Array), value });
    }
  } finally {
    await it.close();
  }
  return out;
}

/** True when every sample decompresses to exactly `length` bytes. */
function decodesAt(samples: readonly { value: Uint8Array }[], length: number): boolean {
  for (const { value } of samples) {
    if (value.length > length) return false;
    try {
      decompressBytes(value, length);
    } catch (err) {
      if (err instanceof DecompressError) return false;
      throw err;
    }
  }
  return true;
}

/**
 * The section size to open with, never writing. Recorded ("iBssize"): it must
 * equal the requested one and decode sampled vectors. Unrecorded with vectors
 * stored (a go-ethereum db, or a damaged one): the requested size must decode
 * them, else it is detected as the one power-of-two size (8..2^20 blocks) that
 * decodes them, 4096 winning ties. Nothing decodable stored: requested or 4096.
 * @throws StoreError for a requested size the db contradicts or an ambiguous one; CorruptDataError when no size fits.
 */
export async function resolveSectionSize(
  db: Db,
  opts: ReadOptions,
  meta: StoreMeta,
  requested: number | undefined,
): Promise<number> {
  const stored = meta.storedSize;
  if (stored !== undefined && requested !== undefined && requested !== stored) {
    throw new StoreError(
      `section size mismatch: the db holds ${stored}-block sections, asked for ${requested}`,
    );
  }
  // With no section stored, leftover vectors (if any) bind nothing.
  const samples = meta.count > 0 ? await sampleVectors(db, opts) : [];
  if (stored !== undefined) {
    if (!decodesAt(samples, stored / 8)) {
      throw new CorruptDataError(
        `metadata "iBssize" (${stored}) does not match the stored vectors (e.g. ${samples[0]?.name})`,
        { key: 'iBssize' },
      );
    }
    return stored;
  }
  if (samples.length === 0) return requested ?? DEFAULT_SECTION_SIZE;
  if (requested !== undefined) {
    if (!decodesAt(samples, requested / 8)) {
      throw new StoreError(
        `section size ${requested} does not decode the stored vectors (e.g. ${samples[0]!.name}); the db records no size`,
      );
    }
    return requested;
  }
  const fits = DETECT_LENGTHS.filter((length) => decodesAt(samples, length));
  if (fits.length === 0) {
    throw new CorruptDataError(
      `no section size decodes the stored vectors (e.g. ${samples[0]!.name}) and the db records none`,
      { key: samples[0]!.name },
    );
  }
  if (fits.length === 1 || fits.includes(DEFAULT_SECTION_SIZE / 8)) {
    return fits.length === 1 ? fits[0]! * 8 : DEFAULT_SECTION_SIZE;
  }
  throw new StoreError(
    `the db records no section size and its vectors fit several (${fits.map((l) => l * 8).join(', ')}): pass sectionSize`,
  );
}
