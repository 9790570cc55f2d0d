import fc from 'fast-check';
import { vectorKey } from '../../src/matcher/distributor.js';
import { VectorKeyMap } from '../../src/matcher/vectorKeyMap.js';

describe('VectorKeyMap', () => {
  it('agrees with a Map on random set/get/has/delete/clear over nearby and far keys', () => {
    // Bits 0, 1, 2047 and sections around chunk edges (63, 64, 127, 128) and far ones.
    const key = fc
      .tuple(fc.constantFrom(0, 1, 2047), fc.constantFrom(0, 1, 63, 64, 65, 127, 128, 5000, 2 ** 40))
      .map(([bit, section]) => vectorKey(bit, section));
    const op = fc.oneof(
      fc.tuple(fc.constant('set' as const), key, fc.integer()),
      fc.tuple(fc.constant('get' as const), key, fc.constant(0)),
      fc.tuple(fc.constant('delete' as const), key, fc.constant(0)),
      fc.tuple(fc.constant('clear' as const), key, fc.constant(0)),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const map = new VectorKeyMap<number>();
        const model = new Map<number, number>();
        for (const [name, k, v] of ops) {
          if (name === 'set') {
            map.set(k, v);
            model.set(k, v);
          } else if (name === 'get') {
            expect(map.get(k)).toBe(model.get(k));
            expect(map.has(k)).toBe(model.has(k));
          } else if (name === 'delete') expect(map.delete(k)).toBe(model.delete(k));
          else {
            map.clear();
            model.clear();
          }
          expect(map.size).toBe(model.size);
        }
        expect([...map.values()].sort()).toEqual([...model.values()].sort());
      }),
      { numRuns: 300 },
    );
  });

  it('values() is a snapshot: deleting while iterating is safe', () => {
    const map = new VectorKeyMap<number>();
    for (let s = 0; s < 200; s++) map.set(vectorKey(3, s), s);
    const seen: number[] = [];
    for (const v of map.values()) {
      seen.push(v);
      map.delete(vectorKey(3, v));
    }
    expect(seen).toEqual(Array.from({ length: 200 }, (_, s) => s));
    expect(map.size).toBe(0);
  });
});
