import { VectorKeyMap } from './vectorKeyMap.js';

interface Node {
  key: number;
  value: Uint8Array;
  older: Node | undefined;
  newer: Node | undefined;
}

/**
 * A least-recently-used cache of byte arrays bounded by their total length: a map
 * for lookup and a doubly linked list for recency, so `get`, `set` and every
 * eviction are O(1). (Evicting through `map.keys().next()` is not: V8 leaves
 * deleted slots at the front of a Map's table until it rehashes, and every
 * `next()` walks past them.)
 */
export class LruCache {
  private readonly map = new VectorKeyMap<Node>();
  private oldest: Node | undefined;
  private newest: Node | undefined;
  private total = 0;

  constructor(private readonly maxBytes: number) {}

  /** Entries held. */
  get size(): number {
    return this.map.size;
  }

  /** Bytes held (sum of the values' lengths), never more than `maxBytes`. */
  get bytes(): number {
    return this.total;
  }

  /** The value under `key`, now the most recently used; `undefined` if absent. */
  get(key: number): Uint8Array | undefined {
    const node = this.map.get(key);
    if (node === undefined) return undefined;
    if (node !== this.newest) {
      this.unlink(node);
      this.append(node);
    }
    return node.value;
  }

  /** Stores `value` as the most recently used, evicting the least recent ones beyond the bound. */
  set(key: number, value: Uint8Array): void {
    const old = this.map.get(key);
    if (old !== undefined) {
      this.unlink(old);
      this.map.delete(key);
      this.total -= old.value.length;
    }
    if (value.length > this.maxBytes) return;
    this.total += value.length;
    // Evict first, and reuse the last evicted node: a streaming query evicts one vector per
    // vector it caches, so the cache then allocates nothing per entry.
    let spare: Node | undefined;
    while (this.total > this.maxBytes && this.oldest !== undefined) {
      spare = this.oldest;
      this.unlink(spare);
      this.map.delete(spare.key);
      this.total -= spare.value.length;
    }
    let node: Node;
    if (spare === undefined) node = { key, value, older: undefined, newer: undefined };
    else {
      node = spare;
      node.key = key;
      node.value = value;
    }
    this.map.set(key, node);
    this.append(node);
  }

  /** Keys from least to most recently used (for tests). */
  keys(): number[] {
    const out: number[] = [];
    for (let n = this.oldest; n !== undefined; n = n.newer) out.push(n.key);
    return out;
  }

  clear(): void {
    this.map.clear();
    this.oldest = undefined;
    this.newest = undefined;
    this.total = 0;
  }

  private append(node: Node): void {
    node.older = this.newest;
    node.newer = undefined;
    if (this.newest !== undefined) this.newest.newer = node;
    else this.oldest = node;
    this.newest = node;
  }

  private unlink(node: Node): void {
    if (node.older !== undefined) node.older.newer = node.newer;
    else this.oldest = node.newer;
    if (node.newer !== undefined) node.newer.older = node.older;
    else this.newest = node.older;
    node.older = undefined;
    node.newer = undefined;
  }
}
