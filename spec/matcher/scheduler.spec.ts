import { type Observable, of, Subject, throwError } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { scheduleBit, type VectorRegistry } from '../../src/matcher/scheduler.js';

const V = (n: number) => Uint8Array.of(n);

/** A registry answering each batch (keyed "s0,s1,…") with the Observable the test gave it; records asks. */
function fakeRegistry(answers: Record<string, Observable<Uint8Array[]>>) {
  const asked: { bit: number; sections: number[] }[] = [];
  const registry: VectorRegistry = {
    vectors: (bit, sections) => {
      asked.push({ bit, sections: [...sections] });
      const answer = answers[sections.join(',')];
      if (!answer) throw new Error(`unexpected batch ${sections}`);
      return answer;
    },
  };
  return { registry, asked };
}

describe('scheduleBit (marbles)', () => {
  let ts: TestScheduler;
  beforeEach(() => {
    ts = new TestScheduler((a, e) => expect(a).toEqual(e));
  });

  it('emits in request order even when later batches are answered first (late delivery)', () => {
    ts.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const a = hot('-------------------(a|)', { a: [V(10), V(11)] });
      const b = hot('---------------(b|)', { b: [V(12)] });
      const c = hot('-----------------(c|)', { c: [V(13)] });
      const { registry, asked } = fakeRegistry({ '0,1': a, '2': b, '3': c });
      const sections = cold('-a----b----c--|', { a: [0, 1], b: [2], c: [3] });
      expectObservable(sections.pipe(scheduleBit(registry, 7))).toBe('-------------------(abc|)', {
        a: [V(10), V(11)],
        b: [V(12)],
        c: [V(13)],
      });
      // Each batch is subscribed when it arrives and held until answered: nothing withdrawn.
      expectSubscriptions(a.subscriptions).toBe('-^-----------------!');
      expectSubscriptions(b.subscriptions).toBe('------^--------!');
      expectSubscriptions(c.subscriptions).toBe('-----------^-----!');
      ts.flush();
      expect(asked).toEqual([
        { bit: 7, sections: [0, 1] },
        { bit: 7, sections: [2] },
        { bit: 7, sections: [3] },
      ]);
    });
  });

  it('an empty batch asks nothing and is answered in its turn', () => {
    ts.run(({ hot, cold, expectObservable }) => {
      const a = hot('----(a|)', { a: [V(0)] });
      const { registry, asked } = fakeRegistry({ '0': a });
      const sections = cold('-ab-|', { a: [0], b: [] });
      expectObservable(sections.pipe(scheduleBit(registry, 3))).toBe('----(ab|)', { a: [V(0)], b: [] });
      ts.flush();
      expect(asked).toEqual([{ bit: 3, sections: [0] }]);
    });
  });

  it('asks as soon as a batch arrives (requests overlap), emits each when its head is ready', () => {
    ts.run(({ hot, expectObservable, expectSubscriptions }) => {
      const a = hot('----(a|)', { a: [V(0)] });
      const b = hot('------(b|)', { b: [V(1)] });
      const { registry } = fakeRegistry({ '0': a, '1': b });
      const sections = hot('-a-b-----|', { a: [0], b: [1] });
      expectObservable(sections.pipe(scheduleBit(registry, 1))).toBe('----a-b--|', { a: [V(0)], b: [V(1)] });
      expectSubscriptions(a.subscriptions).toBe('-^--!');
      expectSubscriptions(b.subscriptions).toBe('---^--!');
    });
  });

  it('already-available vectors are emitted synchronously; completion waits for open batches', () => {
    ts.run(({ cold, hot, expectObservable }) => {
      const { registry } = fakeRegistry({ '0': of([V(100)]), '1': hot('---(b|)', { b: [V(1)] }) });
      const sections = cold('(ab|)', { a: [0], b: [1] });
      expectObservable(sections.pipe(scheduleBit(registry, 3))).toBe('a--(b|)', { a: [V(100)], b: [V(1)] });
    });
  });

  it('an empty batch of sections yields an empty batch of vectors', () => {
    ts.run(({ cold, expectObservable }) => {
      const { registry } = fakeRegistry({ '': of([]) });
      expectObservable(cold('-a|', { a: [] as number[] }).pipe(scheduleBit(registry, 3))).toBe('-a|', {
        a: [],
      });
    });
  });

  it('unsubscribing withdraws every open batch (and only those)', () => {
    ts.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const a = hot('--(a|)', { a: [V(0)] });
      const b = hot('--------(b|)', { b: [V(1), V(2)] });
      const c = hot('--------(c|)', { c: [V(3)] });
      const { registry } = fakeRegistry({ '0': a, '1,2': b, '3': c });
      const sections = cold('-a-b-c--', { a: [0], b: [1, 2], c: [3] });
      expectObservable(sections.pipe(scheduleBit(registry, 5)), '^------!').toBe('--a-----', { a: [V(0)] });
      expectSubscriptions(sections.subscriptions).toBe('^------!');
      expectSubscriptions(a.subscriptions).toBe('-^!');
      expectSubscriptions(b.subscriptions).toBe('---^---!');
      expectSubscriptions(c.subscriptions).toBe('-----^-!');
    });
  });

  it('teardown withdraws exactly the batches still open (plain subjects)', () => {
    const open = new Map<string, Subject<Uint8Array[]>>();
    const registry: VectorRegistry = {
      vectors: (_bit, sections) => {
        const key = sections.join(',');
        const answer = new Subject<Uint8Array[]>();
        open.set(key, answer);
        return answer;
      },
    };
    const sections = new Subject<number[]>();
    const sub = sections.pipe(scheduleBit(registry, 5)).subscribe();
    sections.next([0]);
    sections.next([1, 2]);
    sections.next([3]);
    open.get('0')!.next([V(0)]);
    open.get('0')!.complete();
    sub.unsubscribe();
    expect([...open].filter(([, s]) => s.observed).map(([k]) => k)).toEqual([]);
    expect(sections.observed).toBe(false);
  });

  it('a failed batch errors the stream and withdraws the ones still open', () => {
    ts.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const boom = new Error('boom');
      const a = hot<Uint8Array[]>('-----#', undefined, boom);
      const b = hot('--------(b|)', { b: [V(1)] });
      const { registry } = fakeRegistry({ '0': a, '1': b });
      const sections = cold('-a-b---', { a: [0], b: [1] });
      expectObservable(sections.pipe(scheduleBit(registry, 2))).toBe('-----#', undefined, boom);
      expectSubscriptions(a.subscriptions).toBe('-^---!');
      expectSubscriptions(b.subscriptions).toBe('---^-!');
    });
  });

  it('a source error passes through and withdraws open batches', () => {
    ts.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const a = hot('------(a|)', { a: [V(4)] });
      const { registry } = fakeRegistry({ '4': a });
      const sections = cold('-a-#', { a: [4] }, 'bad');
      expectObservable(sections.pipe(scheduleBit(registry, 2))).toBe('---#', undefined, 'bad');
      expectSubscriptions(a.subscriptions).toBe('-^-!');
    });
  });

  it('a registry that answers synchronously at subscribe still gets every batch out, in order', () => {
    const registry: VectorRegistry = { vectors: (_bit, sections) => of(sections.map(V)) };
    const out: Uint8Array[][] = [];
    let completed = false;
    const sections = new Subject<number[]>();
    sections
      .pipe(scheduleBit(registry, 0))
      .subscribe({ next: (v) => out.push(v), complete: () => (completed = true) });
    sections.next([1, 2]);
    sections.next([3]);
    sections.complete();
    expect(out).toEqual([[V(1), V(2)], [V(3)]]);
    expect(completed).toBe(true);
  });

  it('a registry that fails synchronously at subscribe errors the stream and withdraws earlier batches', () => {
    const open = new Subject<Uint8Array[]>();
    const registry: VectorRegistry = {
      vectors: (_bit, sections) => (sections[0] === 8 ? throwError(() => new Error('sync fail')) : open),
    };
    let error: unknown;
    const sections = new Subject<number[]>();
    sections.pipe(scheduleBit(registry, 0)).subscribe({ error: (e) => (error = e) });
    sections.next([7]);
    expect(open.observed).toBe(true);
    sections.next([8, 9]);
    expect((error as Error).message).toBe('sync fail');
    expect(open.observed).toBe(false);
    expect(sections.observed).toBe(false);
  });
});
