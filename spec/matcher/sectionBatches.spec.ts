import fc from 'fast-check';
import { from, NEVER, Subject, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { blockNumbers } from '../../src/matcher/blockNumbers.js';
import { sectionBatches } from '../../src/matcher/sectionBatches.js';
import type { SectionBatch } from '../../src/matcher/types.js';

const bits = (batch: SectionBatch, sectionSize: number): number[] => {
  const out: number[] = [];
  batch.sections.forEach((s, i) => {
    for (let o = 0; o < sectionSize; o++)
      if (batch.bitsets[i]![o >> 3]! & (0x80 >> (o & 7))) out.push(s * sectionSize + o);
  });
  return out;
};

describe('sectionBatches', () => {
  let ts: TestScheduler;
  beforeEach(() => {
    ts = new TestScheduler((a, e) => expect(a).toEqual(e));
  });

  it('emits `lookahead` batches, then one per credit, completing with the last', () => {
    ts.run(({ hot, expectObservable, expectSubscriptions }) => {
      const credits = hot('-----c---c---c--|');
      const walk = { fromBlock: 0, toBlock: 4 * 16 - 1, sectionSize: 16, batch: 1, lookahead: 2 };
      const sec = (s: number) => ({ sections: [s], bitsets: [Uint8Array.of(0xff, 0xff)] });
      expectObservable(sectionBatches(walk, credits)).toBe('(ab)-c---(d|)', {
        a: sec(0),
        b: sec(1),
        c: sec(2),
        d: sec(3),
      });
      expectSubscriptions(credits.subscriptions).toBe('^--------!');
    });
  });

  it('groups `batch` sections per emission and clips the ends of a range not aligned to bytes or sections', () => {
    ts.run(({ expectObservable }) => {
      const walk = { fromBlock: 13, toBlock: 70, sectionSize: 32, batch: 2, lookahead: 5 };
      const full = Uint8Array.of(0xff, 0xff, 0xff, 0xff);
      expectObservable(sectionBatches(walk, NEVER)).toBe('(ab|)', {
        a: { sections: [0, 1], bitsets: [Uint8Array.of(0, 0b0000_0111, 0xff, 0xff), full] },
        b: { sections: [2], bitsets: [Uint8Array.of(0b1111_1110, 0, 0, 0)] }, // 64..70
      });
    });
  });

  it('covers exactly [fromBlock, toBlock] (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3000 }),
        fc.integer({ min: 0, max: 600 }),
        fc.constantFrom(8, 16, 64),
        fc.integer({ min: 1, max: 4 }),
        (fromBlock, len, sectionSize, batch) => {
          const toBlock = fromBlock + len;
          const out: SectionBatch[] = [];
          sectionBatches({ fromBlock, toBlock, sectionSize, batch, lookahead: 1e9 }, NEVER).subscribe((x) =>
            out.push(x),
          );
          expect(out.every((x) => x.sections.length >= 1 && x.sections.length <= batch)).toBe(true);
          const blocks = out.flatMap((x) => bits(x, sectionSize));
          expect(blocks).toEqual(Array.from({ length: len + 1 }, (_, i) => fromBlock + i));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('synchronous credits are counted, not recursed into', () => {
    const credits = new Subject<void>();
    let depth = 0;
    let maxDepth = 0;
    const seen: number[] = [];
    let completed = false;
    sectionBatches(
      { fromBlock: 0, toBlock: 8 * 500 - 1, sectionSize: 8, batch: 1, lookahead: 1 },
      credits,
    ).subscribe({
      next: (x) => {
        depth++;
        maxDepth = Math.max(maxDepth, depth);
        seen.push(x.sections[0]!);
        credits.next(); // credit back from inside the emission
        depth--;
      },
      complete: () => (completed = true),
    });
    expect(maxDepth).toBe(1);
    expect(seen).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(completed).toBe(true);
    expect(credits.observed).toBe(false);
  });

  it('nothing happens before subscribe; unsubscribe stops emission and drops the credit subscription', () => {
    const credits = new Subject<void>();
    const walk = { fromBlock: 0, toBlock: 1000, sectionSize: 8, batch: 1, lookahead: 2 };
    const batches$ = sectionBatches(walk, credits);
    expect(credits.observed).toBe(false);
    const seen: number[] = [];
    const sub = batches$.subscribe((x) => seen.push(x.sections[0]!));
    expect(seen).toEqual([0, 1]);
    credits.next();
    expect(seen).toEqual([0, 1, 2]);
    sub.unsubscribe();
    expect(credits.observed).toBe(false);
  });
});

describe('blockNumbers', () => {
  let ts: TestScheduler;
  beforeEach(() => {
    ts = new TestScheduler((a, e) => expect(a).toEqual(e));
  });

  it('turns set bits into ascending block numbers, credits after each batch', () => {
    ts.run(({ cold, expectObservable }) => {
      let credits = 0;
      const batches = cold('--a------b--c|', {
        a: { sections: [2, 3], bitsets: [Uint8Array.of(0b1010_0000, 0b0000_0001), Uint8Array.of(0, 0x80)] },
        b: { sections: [], bitsets: [] },
        c: { sections: [5], bitsets: [Uint8Array.of(0x01, 0)] },
      });
      const creditsAt: number[] = [];
      const out = batches.pipe(
        blockNumbers(16, () => {
          credits++;
          creditsAt.push(ts.now());
        }),
      );
      expectObservable(out).toBe('--(wxyz)----u|', { w: 32, x: 34, y: 47, z: 56, u: 87 });
      ts.flush();
      expect(credits).toBe(3);
      expect(creditsAt).toEqual([2, 9, 12]);
    });
  });

  it('credit comes after the batch numbers are out', async () => {
    const log: (number | string)[] = [];
    const result = await new Promise<(number | string)[]>((resolve) =>
      from([{ sections: [0], bitsets: [Uint8Array.of(0xc0)] }])
        .pipe(
          blockNumbers(8, () => log.push('credit')),
          toArray(),
        )
        .subscribe((xs) => resolve(xs)),
    );
    expect(result).toEqual([0, 1]);
    expect(log).toEqual(['credit']);
  });

  it('errors and unsubscription pass through', () => {
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const batches = cold('a-#', { a: { sections: [0], bitsets: [Uint8Array.of(0x80)] } }, 'e');
      expectObservable(batches.pipe(blockNumbers(8, () => undefined))).toBe('a-#', { a: 0 }, 'e');
      const long = cold('a---a', { a: { sections: [1], bitsets: [Uint8Array.of(0x80)] } });
      expectObservable(long.pipe(blockNumbers(8, () => undefined)), '^-!').toBe('a--', { a: 8 });
      expectSubscriptions(long.subscriptions).toBe('^-!');
    });
  });
});
