import type { BloomBitsDb, BloomBitsDbBatchOp } from './db.js';
import { levelCall } from './level-errors.js';

const VIEW = { keyEncoding: 'view', valueEncoding: 'view' } as const;
/** Default encodings that store a Uint8Array key or value as its own bytes. */
const BINARY: ReadonlySet<string | undefined> = new Set(['view', 'buffer']);

/** abstract-level's chained batch, as far as it is used here. */
interface ChainedBatch {
  put(key: Uint8Array, value: Uint8Array): unknown;
  del(key: Uint8Array): unknown;
  write(): Promise<void>;
  close(): Promise<void>;
}

/** The abstract-level members the chained form needs (a hand-written BloomBitsDb may lack them). */
interface ChainedBatchDb {
  batch(): ChainedBatch;
  keyEncoding(): { commonName?: string };
  valueEncoding(): { commonName?: string };
}

/** `db` as an abstract-level db whose default encodings are binary, else undefined. */
function binaryLevel(db: BloomBitsDb): ChainedBatchDb | undefined {
  const level = db as unknown as Partial<ChainedBatchDb>;
  if (typeof level.keyEncoding !== 'function' || typeof level.valueEncoding !== 'function') return undefined;
  const binary = BINARY.has(level.keyEncoding().commonName) && BINARY.has(level.valueEncoding().commonName);
  return binary ? (level as ChainedBatchDb) : undefined;
}

/**
 * Writes `ops` in one atomic batch. abstract-level's array form clones every op with
 * `{ ...options, ...op }`, which costs 10–30 µs per op until V8 has optimised it (a
 * 2,048-vector section spent more time there than in LevelDB); its chained form
 * without per-op options costs a fraction of that. That form needs the db's default
 * encodings to take Uint8Arrays as they are ('view' or 'buffer', as the README opens
 * it); any other db gets the array form with explicit view encodings.
 */
export function writeBatch(db: BloomBitsDb, ops: readonly BloomBitsDbBatchOp[]): Promise<void> {
  const level = binaryLevel(db);
  if (level === undefined) return levelCall(() => db.batch(ops as BloomBitsDbBatchOp[], VIEW));
  return levelCall(async () => {
    const batch = level.batch();
    try {
      for (const op of ops) {
        if (op.type === 'put') batch.put(op.key, op.value);
        else batch.del(op.key);
      }
    } catch (err) {
      await batch.close().catch(() => undefined);
      throw err;
    }
    await batch.write();
  });
}
