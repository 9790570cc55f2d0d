import fc from 'fast-check';
import { LruCache } from '../../src/matcher/lruCache.js';

const bytes = (n: number) => new Uint8Array(n);

describe('LruCache', () => {
  it('evicts the least recently used first; get refreshes; the byte bound holds', () => {
    const cache = new LruCache(10);
    cache.set(1, bytes(4));
    cache.set(2, bytes(4));
    expect(cache.get(1)).toBeDefined(); // 2 is now the oldest
    cache.set(3, bytes(4)); // 12 > 10: evicts 2
    expect(cache.keys()).toEqual([1, 3]);
    expect(cache.get(2)).toBeUndefined();
    expect([cache.size, cache.bytes]).toEqual([2, 8]);
  });

  it('a value larger than the bound is not stored (and drops an older value under its key)', () => {
    const cache = new LruCache(4);
    cache.set(1, bytes(2));
    cache.set(1, bytes(5));
    expect([cache.size, cache.bytes, cache.get(1)]).toEqual([0, 0, undefined]);
  });

  it('clear empties it', () => {
    const cache = new LruCache(8);
    cache.set(1, bytes(2));
    cache.clear();
    expect([cache.size, cache.bytes, cache.keys()]).toEqual([0, 0, []]);
  });

  it('agrees with a brute-force model on random get/set sequences', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 20 }),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 8 }))),
        (max, ops) => {
          const cache = new LruCache(max);
          // Model: keys from least to most recent.
          const model: [number, number][] = [];
          for (const [isSet, key, size] of ops) {
            const i = model.findIndex(([k]) => k === key);
            if (isSet) {
              if (i >= 0) model.splice(i, 1);
              if (size <= max) model.push([key, size]);
              let total = model.reduce((n, [, s]) => n + s, 0);
              while (total > max) total -= model.shift()![1];
              cache.set(key, bytes(size));
            } else {
              expect(cache.get(key)?.length).toBe(i >= 0 ? model[i]![1] : undefined);
              if (i >= 0) model.push(...model.splice(i, 1));
            }
            expect(cache.keys()).toEqual(model.map(([k]) => k));
            expect(cache.bytes).toBe(model.reduce((n, [, s]) => n + s, 0));
            expect(cache.bytes).toBeLessThanOrEqual(max);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
