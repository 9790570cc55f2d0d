/** Sections per chunk. */
const CHUNK = 64;

interface Chunk<V> {
  /** The chunk's key: `vectorKey(bit, first section of the chunk)`. */
  readonly key: number;
  readonly slots: (V | undefined)[];
  count: number;
}

/**
 * A map from vector keys (`vectorKey(bit, section)`) to values, for the per-(bit, section)
 * bookkeeping of the matcher. The matcher walks keys of one bit and ascending sections,
 * so entries live in chunks of 64 consecutive sections of one bit, and the last chunk
 * used is remembered: a batch of 64 sections costs one hash lookup instead of 64 (a
 * `Map` with 10k numeric keys and constant churn cost ~0.1 µs per operation, several
 * per vector). `undefined` cannot be stored as a value.
 */
export class VectorKeyMap<V> {
  private readonly chunks = new Map<number, Chunk<V>>();
  private last: Chunk<V> | undefined;
  private entries = 0;

  /** Entries held. */
  get size(): number {
    return this.entries;
  }

  get(key: number): V | undefined {
    const section = Math.floor(key / 2048);
    return this.chunk(key, section)?.slots[section % CHUNK];
  }

  has(key: number): boolean {
    return this.get(key) !== undefined;
  }

  set(key: number, value: V): this {
    const section = Math.floor(key / 2048);
    let chunk = this.chunk(key, section);
    if (chunk === undefined) {
      const first = section - (section % CHUNK);
      chunk = { key: key - (section - first) * 2048, slots: new Array(CHUNK), count: 0 };
      this.chunks.set(chunk.key, chunk);
      this.last = chunk;
    }
    const i = section % CHUNK;
    if (chunk.slots[i] === undefined) {
      chunk.count++;
      this.entries++;
    }
    chunk.slots[i] = value;
    return this;
  }

  /** Removes `key`'s entry; false when there was none. */
  delete(key: number): boolean {
    const section = Math.floor(key / 2048);
    const chunk = this.chunk(key, section);
    if (chunk === undefined) return false;
    const i = section % CHUNK;
    if (chunk.slots[i] === undefined) return false;
    chunk.slots[i] = undefined;
    this.entries--;
    if (--chunk.count === 0) {
      this.chunks.delete(chunk.key);
      if (this.last === chunk) this.last = undefined;
    }
    return true;
  }

  clear(): void {
    this.chunks.clear();
    this.last = undefined;
    this.entries = 0;
  }

  /** The values, chunk by chunk (in the order chunks were made), ascending sections within one. */
  *values(): IterableIterator<V> {
    for (const chunk of [...this.chunks.values()])
      for (const value of chunk.slots.slice()) if (value !== undefined) yield value;
  }

  /** The chunk holding `key`, if any; remembered for the next call. */
  private chunk(key: number, section: number): Chunk<V> | undefined {
    const chunkKey = key - (section % CHUNK) * 2048;
    const last = this.last;
    if (last !== undefined && last.key === chunkKey) return last;
    const chunk = this.chunks.get(chunkKey);
    if (chunk !== undefined) this.last = chunk;
    return chunk;
  }
}
