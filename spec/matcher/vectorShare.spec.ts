import { queueScheduler } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { RetrievalError } from '../../src/errors.js';
import { VectorShare, type WantEvent } from '../../src/matcher/vectorShare.js';

const V = (n: number) => Uint8Array.of(n);
const show = (e: WantEvent) => `${e.type === 'request' ? '+' : '-'}${e.bit}[${e.sections}]`;

/** A share whose wants are recorded as `+bit[sections]` / `-bit[sections]`. */
function recorded(cacheBytes = 1024) {
  const share = new VectorShare(cacheBytes);
  const wants: string[] = [];
  share.wants$.subscribe((e) => wants.push(show(e)));
  return { share, wants };
}

describe('VectorShare (marbles)', () => {
  let ts: TestScheduler;
  beforeEach(() => {
    ts = new TestScheduler((a, e) => expect(a).toEqual(e));
  });

  it('a (bit, section) pending for one subscription is shared by the next: asked once, delivered to both', () => {
    const { share, wants } = recorded();
    ts.run(({ hot, expectObservable }) => {
      hot('-----x').subscribe(() => share.deliver({ bit: 7, sections: [0, 1], vectors: [V(0), V(1)] }));
      expectObservable(share.vectors(7, [0, 1])).toBe('-----(a|)', { a: [V(0), V(1)] });
      expectObservable(share.vectors(7, [1]), '---^').toBe('-----(b|)', { b: [V(1)] });
    });
    expect(wants).toEqual(['+7[0,1]']);
  });

  it('waits that leave in any order: the rest are still delivered, in the order they came, and nothing is cancelled', () => {
    const { share, wants } = recorded();
    const got: string[] = [];
    const subs = ['a', 'b', 'c', 'd'].map((name) =>
      share.vectors(4, [0]).subscribe((vs) => got.push(`${name}${vs[0]![0]}`)),
    );
    subs[0]!.unsubscribe(); // the first (kept inline) leaves: the next moves up
    subs[2]!.unsubscribe();
    share.deliver({ bit: 4, sections: [0], vectors: [V(9)] });
    expect(got).toEqual(['b9', 'd9']);
    expect(wants).toEqual(['+4[0]']);
  });

  it('delivered vectors are replayed from the cache at subscribe, with no ask', () => {
    const { share, wants } = recorded();
    share.vectors(3, [5]).subscribe();
    share.deliver({ bit: 3, sections: [5], vectors: [V(5)] });
    ts.run(({ expectObservable }) => {
      expectObservable(share.vectors(3, [5])).toBe('(a|)', { a: [V(5)] });
    });
    expect(wants).toEqual(['+3[5]']);
    expect([share.cacheHits, share.cachedVectors, share.cachedBytes]).toEqual([1, 1, 1]);
  });

  it('a batch partly cached waits only for the rest; "missing" entries are not delivered', () => {
    const { share, wants } = recorded();
    share.deliver({ bit: 1, sections: [0], vectors: [V(0)] });
    ts.run(({ hot, expectObservable }) => {
      hot('--x-y').subscribe((k) =>
        share.deliver({ bit: 1, sections: [1, 2], vectors: k === 'x' ? [V(1), undefined] : [V(1), V(2)] }),
      );
      expectObservable(share.vectors(1, [0, 1, 2])).toBe('----(a|)', { a: [V(0), V(1), V(2)] });
    });
    expect(wants).toEqual(['+1[1,2]']);
  });

  it('unsubscribing withdraws the wait: the last one out cancels', () => {
    const { share, wants } = recorded();
    ts.run(({ expectObservable }) => {
      expectObservable(share.vectors(2, [0, 1]), '^--!').toBe('----');
      expectObservable(share.vectors(2, [1]), '-^----!').toBe('-------');
    });
    expect(wants).toEqual(['+2[0,1]', '-2[0]', '-2[1]']);
  });

  it('changes within one trampoline turn are coalesced, cancels first', () => {
    const { share, wants } = recorded();
    const leaving = share.vectors(4, [0, 1]).subscribe();
    expect(wants).toEqual(['+4[0,1]']);
    queueScheduler.schedule(() => {
      // A query leaves and another batch comes and goes in the same turn.
      leaving.unsubscribe();
      share.vectors(5, [3]).subscribe();
      share.vectors(6, [9]).subscribe().unsubscribe();
      expect(wants).toEqual(['+4[0,1]']);
    });
    expect(wants).toEqual(['+4[0,1]', '-4[0,1]', '+5[3]']);
  });

  it('a section given up on fails every wait for it; their other waits are withdrawn', () => {
    const { share, wants } = recorded();
    const error = new RetrievalError(8, [1], new Error('boom'));
    ts.run(({ hot, expectObservable }) => {
      hot('--x').subscribe(() => share.fail({ bit: 8, sections: [1], error }));
      expectObservable(share.vectors(8, [0, 1])).toBe('--#', undefined, error);
      expectObservable(share.vectors(8, [1])).toBe('--#', undefined, error);
      expectObservable(share.vectors(8, [0, 2]), '^----!').toBe('------');
    });
    // 0 stays wanted by the third subscription until it leaves; 1 is forgotten, never cancelled.
    expect(wants).toEqual(['+8[0,1]', '+8[2]', '-8[0,2]']);
  });

  it('reset forgets what the distributor was told; resume asks again for waits still open', () => {
    const { share, wants } = recorded();
    share.vectors(1, [0]).subscribe();
    share.vectors(1, [1]).subscribe().unsubscribe();
    share.reset();
    share.resume();
    expect(wants).toEqual(['+1[0]', '+1[1]', '-1[1]', '+1[0]']);
  });
});
