/**
 * The tail's columns: snapshots share one instance and read their first `tailLength` entries,
 * which later appends, commits (`from`) and rollbacks (`upTo`) must never change.
 */
import fc from 'fast-check';
import { InvalidOptionError } from '../../src/errors.js';
import { TailColumns } from '../../src/indexer/tailColumns.js';

/** A distinct hash and bloom per block number. */
const hashOf = (n: number) => Uint8Array.from({ length: 32 }, (_, i) => (n * 7 + i) & 0xff);
const bloomOf = (n: number) => Uint8Array.from({ length: 256 }, (_, i) => (n * 13 + i * 3) & 0xff);

const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

type Op = { kind: 'append'; count: number } | { kind: 'commit' } | { kind: 'rollback'; keep: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.integer({ min: 1, max: 300 }).map((count) => ({ kind: 'append', count }) as const),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'commit' } as const) },
  { weight: 1, arbitrary: fc.nat(400).map((keep) => ({ kind: 'rollback', keep }) as const) },
);

describe('TailColumns', () => {
  it('every snapshot keeps reading its own entries through appends, commits and rollbacks', () => {
    fc.assert(
      fc.property(fc.constantFrom(8, 24, 64, 1032, 4096), fc.array(op, { maxLength: 25 }), (size, ops) => {
        // The model: the id of each entry (a fresh id per append, so a block appended again
        // after a rollback has new contents, as after a reorg).
        let columns = new TailColumns(size);
        let ids: number[] = [];
        let next = 0;
        const snapshots: { columns: TailColumns; ids: number[] }[] = [];
        for (const o of ops) {
          if (o.kind === 'append') {
            for (let k = 0; k < o.count; k++) {
              columns.append(hashOf(next), bloomOf(next));
              ids.push(next++);
            }
          } else if (o.kind === 'commit') {
            if (ids.length < size) continue;
            columns = columns.from(size);
            ids = ids.slice(size);
          } else {
            ids = ids.slice(0, Math.min(o.keep, ids.length));
            columns = columns.upTo(ids.length);
          }
          expect(columns.length).toBe(ids.length);
          snapshots.push({ columns, ids });
        }
        for (const s of snapshots) {
          s.ids.forEach((id, i) => {
            if (!same(s.columns.hash(i), hashOf(id)) || !same(s.columns.bloom(i), bloomOf(id))) {
              throw new Error(`a snapshot reads entry ${i} wrong`);
            }
          });
        }
      }),
      { numRuns: 60 },
    );
  });

  it('copies what it is given and starts new columns only at a section boundary', () => {
    const hash = hashOf(1);
    const bloom = bloomOf(1);
    const columns = TailColumns.of(8, [{ hash, bloom }]);
    hash.fill(0);
    bloom.fill(0);
    expect(columns.hash(0)).toEqual(hashOf(1));
    expect(columns.bloom(0)).toEqual(bloomOf(1));
    expect(() => columns.from(4)).toThrow(InvalidOptionError);
  });
});
