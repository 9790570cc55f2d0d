import { Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import type { VectorEntry, VectorRequest } from '../../src/matcher/engine.js';
import { scheduleBit, type VectorRegistry } from '../../src/matcher/scheduler.js';

const V = (n: number) => Uint8Array.of(n);

/** A registry without dedup: every acquire gets fresh pending entries unless the section is preset. */
class FakeRegistry implements VectorRegistry {
  readonly acquired: { bit: number; sections: number[] }[] = [];
  readonly released: { bit: number; sections: number[] }[] = [];
  private readonly open: { entry: VectorEntry; request: VectorRequest }[] = [];
  constructor(private readonly preset = new Map<number, Uint8Array>()) {}

  acquire(bit: number, sections: readonly number[], request: VectorRequest): VectorEntry[] {
    this.acquired.push({ bit, sections: [...sections] });
    return sections.map((section) => {
      const vector = this.preset.get(section);
      const entry: VectorEntry = {
        key: section,
        bit,
        section,
        vector,
        waiters: [],
        task: undefined,
        attempts: 0,
        backoff: undefined,
      };
      if (vector === undefined) {
        entry.waiters.push(request);
        request.remaining++;
        this.open.push({ entry, request });
      }
      return entry;
    });
  }

  release(entries: readonly VectorEntry[], request: VectorRequest): void {
    const sections: number[] = [];
    for (const entry of entries) {
      const i = entry.waiters.indexOf(request);
      if (i >= 0) {
        entry.waiters.splice(i, 1);
        sections.push(entry.section);
      }
    }
    this.released.push({ bit: entries[0]?.bit ?? -1, sections });
  }

  /** Delivers `vector` to every open wait for `section`. */
  deliver(section: number, vector: Uint8Array): void {
    for (const { entry, request } of this.open.filter((o) => o.entry.section === section)) {
      if (entry.vector !== undefined || !entry.waiters.includes(request)) continue;
      entry.vector = vector;
      entry.waiters = [];
      if (--request.remaining === 0) request.ready();
    }
  }

  /** Fails every open wait for `section`. */
  fail(section: number, error: unknown): void {
    for (const { entry, request } of this.open.filter((o) => o.entry.section === section)) {
      if (entry.waiters.includes(request)) request.fail(error);
    }
  }
}

describe('scheduleBit', () => {
  let ts: TestScheduler;
  beforeEach(() => {
    ts = new TestScheduler((a, e) => expect(a).toEqual(e));
  });

  it('emits in request order even when later requests are delivered first (late delivery)', () => {
    ts.run(({ cold, hot, expectObservable }) => {
      const reg = new FakeRegistry();
      const sections = cold('-a----b----c--|', { a: [0, 1], b: [2], c: [3] });
      const order: Record<string, number> = { w: 2, x: 3, y: 0, z: 1 };
      hot('---------------w-x-y-z').subscribe((k) => reg.deliver(order[k]!, V(10 + order[k]!)));
      expectObservable(sections.pipe(scheduleBit(reg, 7))).toBe('---------------------(abc|)', {
        a: [V(10), V(11)],
        b: [V(12)],
        c: [V(13)],
      });
      ts.flush();
      expect(reg.acquired).toEqual([
        { bit: 7, sections: [0, 1] },
        { bit: 7, sections: [2] },
        { bit: 7, sections: [3] },
      ]);
      expect(reg.released).toEqual([]);
    });
  });

  it('asks the registry as soon as a batch arrives (requests overlap), emits each when its head is ready', () => {
    ts.run(({ hot, expectObservable }) => {
      const reg = new FakeRegistry();
      const sections = hot('-a-b-----|', { a: [0], b: [1] });
      hot('----x-y').subscribe((k) => reg.deliver(k === 'x' ? 0 : 1, V(k === 'x' ? 0 : 1)));
      expectObservable(sections.pipe(scheduleBit(reg, 1))).toBe('----a-b--|', { a: [V(0)], b: [V(1)] });
      hot('--c').subscribe(() => expect(reg.acquired.length).toBe(1));
      hot('---d').subscribe(() => expect(reg.acquired.length).toBe(2));
    });
  });

  it('already-available vectors are emitted synchronously; completion waits for open requests', () => {
    ts.run(({ cold, hot, expectObservable }) => {
      const reg = new FakeRegistry(new Map([[0, V(100)]]));
      const sections = cold('(ab|)', { a: [0], b: [1] });
      hot('---x').subscribe(() => reg.deliver(1, V(1)));
      expectObservable(sections.pipe(scheduleBit(reg, 3))).toBe('a--(b|)', { a: [V(100)], b: [V(1)] });
    });
  });

  it('an empty batch of sections yields an empty batch of vectors', () => {
    ts.run(({ cold, expectObservable }) => {
      const reg = new FakeRegistry();
      expectObservable(cold('-a|', { a: [] as number[] }).pipe(scheduleBit(reg, 3))).toBe('-a|', { a: [] });
    });
  });

  it('unsubscribing releases every open wait (and only those)', () => {
    const reg = new FakeRegistry();
    ts.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const sections = cold('-a-b-c--', { a: [0], b: [1, 2], c: [3] });
      hot('--x').subscribe(() => reg.deliver(0, V(0)));
      hot('----y').subscribe(() => reg.deliver(2, V(2)));
      expectObservable(sections.pipe(scheduleBit(reg, 5)), '^------!').toBe('--a-----', { a: [V(0)] });
      expectSubscriptions(sections.subscriptions).toBe('^------!');
    });
    // a was delivered; b still waits for 1 (2 arrived); c waits for 3.
    expect(reg.released).toEqual([
      { bit: 5, sections: [1] },
      { bit: 5, sections: [3] },
    ]);
  });

  it('teardown releases the exact entries still waited for', () => {
    const reg = new FakeRegistry();
    const sections = new Subject<number[]>();
    const sub = sections.pipe(scheduleBit(reg, 5)).subscribe();
    sections.next([0]);
    sections.next([1, 2]);
    sections.next([3]);
    reg.deliver(0, V(0));
    reg.deliver(2, V(2));
    sub.unsubscribe();
    expect(reg.released).toEqual([
      { bit: 5, sections: [1] },
      { bit: 5, sections: [3] },
    ]);
    expect(sections.observed).toBe(false);
  });

  it('a failed wait errors the stream and releases what is still open', () => {
    ts.run(({ cold, hot, expectObservable }) => {
      const reg = new FakeRegistry();
      const sections = cold('-a-b---', { a: [0], b: [1] });
      const boom = new Error('boom');
      hot('-----x').subscribe(() => reg.fail(0, boom));
      expectObservable(sections.pipe(scheduleBit(reg, 2))).toBe('-----#', undefined, boom);
      ts.flush();
      expect(reg.released).toEqual([
        { bit: 2, sections: [0] },
        { bit: 2, sections: [1] },
      ]);
    });
  });

  it('a source error passes through and releases open waits', () => {
    ts.run(({ cold, expectObservable }) => {
      const reg = new FakeRegistry();
      const sections = cold('-a-#', { a: [4] }, 'bad');
      expectObservable(sections.pipe(scheduleBit(reg, 2))).toBe('---#', undefined, 'bad');
      ts.flush();
      expect(reg.released).toEqual([{ bit: 2, sections: [4] }]);
    });
  });

  it('a registry that answers synchronously inside acquire still gets its vectors out (sync retriever)', () => {
    // Mimics the engine with a synchronous retriever: the request becomes ready before acquire returns.
    const reg: VectorRegistry = {
      acquire(bit, sections, request) {
        const entries: VectorEntry[] = sections.map((section) => ({
          key: section,
          bit,
          section,
          vector: undefined,
          waiters: [request],
          task: undefined,
          attempts: 0,
          backoff: undefined,
        }));
        request.remaining += entries.length;
        for (const e of entries) {
          e.vector = V(e.section);
          e.waiters = [];
          if (--request.remaining === 0) request.ready();
        }
        return entries;
      },
      release: () => undefined,
    };
    const out: Uint8Array[][] = [];
    let completed = false;
    const sections = new Subject<number[]>();
    sections
      .pipe(scheduleBit(reg, 0))
      .subscribe({ next: (v) => out.push(v), complete: () => (completed = true) });
    sections.next([1, 2]);
    sections.next([3]);
    sections.complete();
    expect(out).toEqual([[V(1), V(2)], [V(3)]]);
    expect(completed).toBe(true);
  });

  it('a registry that fails synchronously inside acquire errors the stream after acquire returned', () => {
    const released: number[] = [];
    const reg: VectorRegistry = {
      acquire(bit, sections, request) {
        const entries = sections.map((section) => ({
          key: section,
          bit,
          section,
          vector: undefined,
          waiters: [request],
          task: undefined,
          attempts: 0,
          backoff: undefined,
        }));
        request.remaining += entries.length;
        request.fail(new Error('sync fail'));
        return entries;
      },
      release: (entries) => released.push(...entries.map((e) => e.section)),
    };
    let error: unknown;
    const sections = new Subject<number[]>();
    sections.pipe(scheduleBit(reg, 0)).subscribe({ error: (e) => (error = e) });
    sections.next([8, 9]);
    expect((error as Error).message).toBe('sync fail');
    // The entries were known when the stream tore down, so they were released.
    expect(released).toEqual([8, 9]);
  });
});
