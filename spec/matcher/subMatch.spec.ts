import fc from 'fast-check';
import { defer, type Observable, of } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { combineGroup } from '../../src/matcher/combine.js';
import type { VectorRegistry } from '../../src/matcher/scheduler.js';
import { adaptiveStaging, alwaysStaged, planGroup, subMatch } from '../../src/matcher/subMatch.js';
import type { SectionBatch } from '../../src/matcher/types.js';

const b = (...bytes: number[]) => Uint8Array.from(bytes);

/** Registry with every vector available at once; records what was asked for. */
class ReadyRegistry implements VectorRegistry {
  readonly asked: string[] = [];
  constructor(private readonly vectorOf: (bit: number, section: number) => Uint8Array) {}
  vectors(bit: number, sections: readonly number[]): Observable<Uint8Array[]> {
    return defer(() => {
      for (const section of sections) this.asked.push(`${bit}:${section}`);
      return of(sections.map((section) => this.vectorOf(bit, section)));
    });
  }
}

describe('combineGroup', () => {
  it('ANDs the bits of a clause, ORs clauses, ANDs with the incoming bitset, drops empty sections', () => {
    const batch: SectionBatch = { sections: [3, 4, 5], bitsets: [b(0xff), b(0x0f), b(0xff)] };
    // bits: 0, 1, 2; clause A = {0, 1}, clause B = {2}
    const v0 = [b(0b1100_1100), b(0xff), b(0x00)];
    const v1 = [b(0b1010_1010), b(0xf0), b(0x00)];
    const v2 = [b(0b0000_0001), b(0xf0), b(0x00)];
    const out = combineGroup(batch, [[0, 1], [2]], [v0, v1, v2]);
    expect(out).toEqual({ sections: [3], bitsets: [b(0b1000_1001)] });
    // inputs untouched
    expect(batch.bitsets).toEqual([b(0xff), b(0x0f), b(0xff)]);
    expect(v0[0]).toEqual(b(0b1100_1100));
  });

  it('keeps batches one-to-one: everything ruled out gives an empty batch', () => {
    expect(combineGroup({ sections: [1], bitsets: [b(0xff)] }, [[0]], [[b(0)]])).toEqual({
      sections: [],
      bitsets: [],
    });
    expect(combineGroup({ sections: [], bitsets: [] }, [[0]], [[]])).toEqual({ sections: [], bitsets: [] });
  });

  it('agrees with a per-bit oracle for 3-bit clauses, aligned and unaligned buffers', () => {
    const vec = fc.uint8Array({ minLength: 10, maxLength: 10 });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(vec, vec, vec, vec), { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        (rows, unaligned) => {
          // Length 10: two 32-bit words and a 2-byte tail; optionally at byteOffset 1.
          const place = (v: Uint8Array) => {
            if (!unaligned) return Uint8Array.from(v);
            const buf = new Uint8Array(v.length + 1);
            buf.set(v, 1);
            return buf.subarray(1);
          };
          const batch: SectionBatch = {
            sections: rows.map((_, i) => i),
            bitsets: rows.map((r) => place(r[0])),
          };
          const vs = [0, 1, 2].map((j) => rows.map((r) => place(r[j + 1]!)));
          const clauses = [
            [0, 1, 2],
            [2, 0, 1],
          ];
          const out = combineGroup(batch, clauses, vs);
          const expectSections: number[] = [];
          const expectBits: Uint8Array[] = [];
          rows.forEach(([inc, a, bb, c], i) => {
            const o = inc.map((x, k) => x & a[k]! & bb[k]! & c[k]!);
            if (o.some((x) => x !== 0)) {
              expectSections.push(i);
              expectBits.push(Uint8Array.from(o));
            }
          });
          expect(out.sections).toEqual(expectSections);
          expect(out.bitsets.map((x) => Array.from(x))).toEqual(expectBits.map((x) => Array.from(x)));
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('combineGroup: word-aligned vectors', () => {
  /** Per-byte oracle: OR over clauses of (incoming AND every vector of the clause). */
  const oracle = (incoming: Uint8Array, clauses: readonly (readonly number[])[], vs: Uint8Array[]) =>
    Array.from(incoming, (x, k) =>
      clauses.reduce((acc, c) => acc | c.reduce((y, j) => y & vs[j]![k]!, x), 0),
    );

  /** A copy of `v` at `offset` bytes into a larger buffer (offset 0 or 4: aligned; 1: not). */
  const place = (v: Uint8Array, offset: number) => {
    const buf = new Uint8Array(v.length + offset);
    buf.set(v, offset);
    return buf.subarray(offset);
  };

  // Lengths that are multiples of 4 take the 32-bit path for 3-bit clauses; 10 and 1 do not.
  it.each([4, 8, 12, 512])(
    'agrees with the per-byte oracle at %p bytes (3-bit clauses, mixed offsets)',
    (len) => {
      fc.assert(
        fc.property(
          fc.array(
            fc.record({
              incoming: fc.uint8Array({ minLength: len, maxLength: len }),
              vectors: fc.array(fc.uint8Array({ minLength: len, maxLength: len }), {
                minLength: 4,
                maxLength: 4,
              }),
              offset: fc.constantFrom(0, 0, 4, 1),
            }),
            { minLength: 1, maxLength: 4 },
          ),
          fc.constantFrom(
            [[0, 1, 2]],
            [
              [0, 1, 2],
              [1, 2, 3],
            ],
            [[0, 1, 2], [3]],
            [[0], [1, 2]],
          ),
          fc.boolean(),
          (rows, clauses, dense) => {
            // Dense inputs make most words non-zero, so the AND/OR really decides the output.
            const fill = (v: Uint8Array) => (dense ? v.map((x) => x | 0b1011_0111) : v);
            const batch: SectionBatch = {
              sections: rows.map((_, i) => i * 7),
              bitsets: rows.map((r) => place(fill(r.incoming), r.offset)),
            };
            const vs = [0, 1, 2, 3].map((j) => rows.map((r) => place(fill(r.vectors[j]!), r.offset)));
            const out = combineGroup(batch, clauses, vs);
            const expected = rows
              .map((_, i) => ({
                section: i * 7,
                bits: oracle(
                  batch.bitsets[i]!,
                  clauses,
                  vs.map((v) => v[i]!),
                ),
              }))
              .filter((e) => e.bits.some((x) => x !== 0));
            expect(out.sections).toEqual(expected.map((e) => e.section));
            expect(out.bitsets.map((x) => Array.from(x))).toEqual(expected.map((e) => e.bits));
          },
        ),
        { numRuns: 60 },
      );
    },
  );

  it('a 512-byte section with a single surviving bit in the last word', () => {
    const ones = new Uint8Array(512).fill(0xff);
    const last = new Uint8Array(512);
    last[511] = 0x01;
    const out = combineGroup({ sections: [5], bitsets: [ones] }, [[0, 1, 2]], [[ones], [ones], [last]]);
    expect(out.sections).toEqual([5]);
    expect(Array.from(out.bitsets[0]!)).toEqual(Array.from(last));
  });
});

describe('planGroup', () => {
  it("reads every bit but a clause's last first, and the last bits second", () => {
    expect(planGroup([[7, 9, 5]])).toEqual({
      first: [7, 9],
      last: [5],
      clauseBits: [[0, 1, 2]],
      heads: [[0, 1]],
      tails: [0],
    });
  });

  it('a one-bit clause, or a last bit the first stage reads anyway, is read whole in the first stage', () => {
    const plan = planGroup([[3], [1, 2, 4], [4, 3, 1], [6, 2, 4]]);
    expect(plan.first).toEqual([3, 1, 2, 4, 6]);
    // [1, 2, 4]: 4 is read first for [4, 3, 1]; [4, 3, 1]: 1 likewise; [6, 2, 4] too.
    expect(plan.last).toEqual([]);
    expect(plan.tails).toEqual([-1, -1, -1, -1]);
    expect(plan.clauseBits).toEqual([[0], [1, 2, 3], [3, 0, 1], [4, 2, 3]]);
  });

  it('clauses that end in the same bit share its second-stage read', () => {
    const plan = planGroup([
      [1, 2, 9],
      [3, 4, 9],
      [5, 6, 8],
    ]);
    expect(plan.first).toEqual([1, 2, 3, 4, 5, 6]);
    expect(plan.last).toEqual([9, 8]);
    expect(plan.tails).toEqual([0, 0, 1]);
    expect(plan.clauseBits).toEqual([
      [0, 1, 6],
      [2, 3, 6],
      [4, 5, 7],
    ]);
  });
});

describe('subMatch', () => {
  let ts: TestScheduler;
  beforeEach(() => {
    ts = new TestScheduler((a, e) => expect(a).toEqual(e));
  });

  // Section s, bit k: vector byte = pattern per bit.
  const pattern: Record<number, number> = { 1: 0b1111_0000, 2: 0b1100_1100, 3: 0b0000_1111, 4: 0 };
  const vectors = (bit: number, section: number) => b(section === 9 ? 0 : pattern[bit]!);

  it('one batch out per batch in, ANDing the group into the bitsets', () => {
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const reg = new ReadyRegistry(vectors);
      const batches = cold('-a--b-|', {
        a: { sections: [0, 9], bitsets: [b(0xff), b(0xff)] },
        b: { sections: [2], bitsets: [b(0b0011_1100)] },
      });
      // group: (1 ∧ 2) ∨ 3
      const out = batches.pipe(subMatch(reg, [[1, 2], [3]]));
      expectObservable(out).toBe('-a--b-|', {
        a: { sections: [0], bitsets: [b(0b1100_1111)] },
        b: { sections: [2], bitsets: [b(0b0000_1100)] },
      });
      expectSubscriptions(batches.subscriptions).toBe('^-----!');
    });
  });

  it('a bit shared by clauses is asked for once per section', () => {
    const reg = new ReadyRegistry(vectors);
    ts.run(({ cold, expectObservable }) => {
      const out = cold('a|', { a: { sections: [0, 1], bitsets: [b(0xff), b(0xff)] } }).pipe(
        subMatch(reg, [
          [1, 2],
          [2, 3],
        ]),
      );
      expectObservable(out).toBe('a|', {
        a: { sections: [0, 1], bitsets: [b(0b1100_1100), b(0b1100_1100)] },
      });
    });
    expect([...reg.asked].sort()).toEqual(['1:0', '1:1', '2:0', '2:1', '3:0', '3:1']);
  });

  it('short-circuit: the next group only asks for sections that survived', () => {
    const reg = new ReadyRegistry(vectors);
    ts.run(({ cold, expectObservable }) => {
      const out = cold('a|', { a: { sections: [0, 9, 5], bitsets: [b(0xff), b(0xff), b(0x0f)] } }).pipe(
        subMatch(reg, [[1]]), // section 9 is empty; 5's bitset ∧ 0xf0 = 0
        subMatch(reg, [[2]]),
      );
      expectObservable(out).toBe('a|', { a: { sections: [0], bitsets: [b(0b1100_0000)] } });
    });
    expect(reg.asked.filter((k) => k.startsWith('2:'))).toEqual(['2:0']);
  });

  it("reads a clause's last bit only for sections its other bits left alive", () => {
    // bit 5: section 0 all ones, section 1 nothing; bit 6 everywhere 0xf0; bit 7 everywhere 0x3c.
    const reg = new ReadyRegistry((bit, section) =>
      b(bit === 5 ? (section === 1 ? 0 : 0xff) : bit === 6 ? 0xf0 : 0x3c),
    );
    ts.run(({ cold, expectObservable }) => {
      const batch = { sections: [0, 1, 2], bitsets: [b(0xff), b(0xff), b(0x0f)] };
      // section 2: incoming 0x0f ∧ 5 ∧ 6 = 0, so neither is asked for bit 7
      const out = cold('a|', { a: batch }).pipe(subMatch(reg, [[5, 6, 7]], alwaysStaged));
      expectObservable(out).toBe('a|', { a: { sections: [0], bitsets: [b(0x30)] } });
    });
    expect(reg.asked.filter((k) => k.startsWith('7:'))).toEqual(['7:0']);
    expect(reg.asked.filter((k) => !k.startsWith('7:')).sort()).toEqual([
      '5:0',
      '5:1',
      '5:2',
      '6:0',
      '6:1',
      '6:2',
    ]);
  });

  it('the second stage waits for the first, and batches stay in order', () => {
    const asked: string[] = [];
    ts.run(({ cold, expectObservable }) => {
      // Bit 5 is all ones but in section 2; bits 1 and 2 as in `pattern`. Each ask answers 2 frames later.
      const vectorOf = (bit: number, s: number) => b(bit === 5 ? (s === 2 ? 0 : 0xff) : pattern[bit]!);
      const reg: VectorRegistry = {
        vectors: (bit, sections) =>
          defer(() => {
            asked.push(`${bit}:${sections.join(',')}@${ts.now()}`);
            return cold('--(a|)', { a: sections.map((s) => vectorOf(bit, s)) });
          }),
      };
      const batches = cold('a-b|', {
        a: { sections: [0], bitsets: [b(0xff)] },
        b: { sections: [2], bitsets: [b(0xff)] },
      });
      // a: 5 ∧ 1 at frame 2, then bit 2 at frame 4. b: 5 ∧ 1 = 0 at frame 4, nothing more to read.
      expectObservable(batches.pipe(subMatch(reg, [[5, 1, 2]], alwaysStaged))).toBe('----(ab|)', {
        a: { sections: [0], bitsets: [b(0b1100_0000)] },
        b: { sections: [], bitsets: [] },
      });
    });
    expect(asked.sort()).toEqual(['1:0@0', '1:2@2', '2:0@2', '5:0@0', '5:2@2']);
  });

  describe('adaptive staging (the default)', () => {
    /** Bit 5 empty in odd sections, bits 6 and 7 full: [5, 6, 7] is dead in odd sections. */
    const sparseIn = (bit: number, section: number) => b(bit === 5 && section % 2 === 1 ? 0 : 0xff);
    const batchOf = (sections: number[]) => ({ sections, bitsets: sections.map(() => b(0xff)) });

    it('the first batch reads every bit at once; later ones are staged while clauses die', () => {
      const reg = new ReadyRegistry(sparseIn);
      ts.run(({ cold, expectObservable }) => {
        const out = cold('a-b-c|', { a: batchOf([0, 1]), b: batchOf([2, 3]), c: batchOf([4, 5]) }).pipe(
          subMatch(reg, [[5, 6, 7]]),
        );
        expectObservable(out).toBe('a-b-c|', {
          a: { sections: [0], bitsets: [b(0xff)] },
          b: { sections: [2], bitsets: [b(0xff)] },
          c: { sections: [4], bitsets: [b(0xff)] },
        });
      });
      // Batch a: bit 7 for both sections (unstaged); half the clauses died, so b and c are staged.
      expect(reg.asked.filter((k) => k.startsWith('7:'))).toEqual(['7:0', '7:1', '7:2', '7:4']);
    });

    it('clauses that never die are not staged once that is known', () => {
      const reg = new ReadyRegistry(() => b(0xff));
      const decisions: boolean[] = [];
      const recording = () => {
        const policy = adaptiveStaging();
        return {
          next: () => {
            const staged = policy.next();
            decisions.push(staged);
            return staged;
          },
          observe: (pairs: number, dead: number) => policy.observe(pairs, dead),
        };
      };
      ts.run(({ cold, expectObservable }) => {
        const batches = cold('abc|', { a: batchOf([0]), b: batchOf([1]), c: batchOf([2]) });
        expectObservable(batches.pipe(subMatch(reg, [[5, 6, 7]], recording))).toBe('abc|', {
          a: batchOf([0]),
          b: batchOf([1]),
          c: batchOf([2]),
        });
      });
      // The registry answers at once, so each batch's evidence (no clause died) is in before
      // the next batch is planned: none is staged.
      expect(decisions).toEqual([false, false, false]);
    });

    it('an empty batch does not use up the unstaged first batch', () => {
      const reg = new ReadyRegistry(sparseIn);
      ts.run(({ cold, expectObservable }) => {
        const empty = { sections: [], bitsets: [] };
        const out = cold('ab|', { a: empty, b: batchOf([0, 1]) }).pipe(subMatch(reg, [[5, 6, 7]]));
        expectObservable(out).toBe('ab|', { a: empty, b: { sections: [0], bitsets: [b(0xff)] } });
      });
      // Batch b is the first with sections: read at once, bit 7 for both.
      expect(reg.asked.filter((k) => k.startsWith('7:'))).toEqual(['7:0', '7:1']);
    });

    it('the policy: first batch unstaged, staged without evidence, then by the share of dead pairs', () => {
      const p = adaptiveStaging();
      expect(p.next()).toBe(false);
      expect(p.next()).toBe(true); // nothing observed yet
      p.observe(64, 0);
      expect(p.next()).toBe(false);
      p.observe(64, 32);
      expect(p.next()).toBe(true);
      for (let i = 0; i < 20; i++) p.observe(64, 0); // old evidence fades
      expect(p.next()).toBe(false);
    });
  });

  it('a group that rules out everything still passes empty batches along', () => {
    ts.run(({ cold, expectObservable }) => {
      const reg = new ReadyRegistry(vectors);
      const out = cold('a-b|', {
        a: { sections: [0], bitsets: [b(0xff)] },
        b: { sections: [1], bitsets: [b(0xff)] },
      }).pipe(subMatch(reg, [[4]]), subMatch(reg, [[1]]));
      const empty = { sections: [], bitsets: [] };
      expectObservable(out).toBe('a-b|', { a: empty, b: empty });
    });
  });

  it('propagates errors and unsubscription', () => {
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const reg = new ReadyRegistry(vectors);
      const err = cold('a-#', { a: { sections: [0], bitsets: [b(0xff)] } }, 'e');
      expectObservable(err.pipe(subMatch(reg, [[3]]))).toBe(
        'a-#',
        { a: { sections: [0], bitsets: [b(0x0f)] } },
        'e',
      );
      const long = cold('a-----a', { a: { sections: [0], bitsets: [b(0xff)] } });
      expectObservable(long.pipe(subMatch(reg, [[3]])), '^--!').toBe('a---', {
        a: { sections: [0], bitsets: [b(0x0f)] },
      });
      expectSubscriptions(long.subscriptions).toBe('^--!');
    });
  });
});
