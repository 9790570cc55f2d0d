import { finalize, lastValueFrom, Observable, take } from 'rxjs';
import { RetrievalEngine } from '../../src/matcher/engine.js';
import { createMatcher } from '../../src/matcher/matcher.js';
import type { RetrievalTask } from '../../src/matcher/types.js';
import { hangingRetriever } from './helpers.js';

const SIZE = 8;

describe('RetrievalEngine', () => {
  it('a synchronous retriever, one worker, one section per task, 10k sections asked at once: the stack stays flat', async () => {
    // Every answer arrives while the step that started its task still runs: trampolined, not recursed.
    const engine = new RetrievalEngine({
      retriever: (t) => [t.sections.map((s) => Uint8Array.of(s & 0xff))],
      vectorLength: 1,
      workers: 1,
      batch: 1,
      wait: 0,
      cacheBytes: 0,
    });
    const sections = Array.from({ length: 10_000 }, (_, i) => i);
    const loop = engine.running$.subscribe();
    const vectors = await lastValueFrom(engine.vectors(3, sections));
    loop.unsubscribe();
    expect(vectors.map((v) => v[0])).toEqual(sections.map((s) => s & 0xff));
    expect(engine.stats.tasks).toBe(10_000);
  });

  it('a query leaving while another keeps the loop alive withdraws all its waits at once: no call after unsubscribe', () => {
    const tasks: RetrievalTask[] = [];
    const m = createMatcher({
      retriever: hangingRetriever(tasks),
      sectionSize: SIZE,
      workers: 2,
      batch: 1,
    });
    // B holds one worker (and the loop) forever; A gets the other one for 1:0, with 1:1…, 2:0… queued.
    const b = m.matchBits([[[9]]], { fromBlock: 0, toBlock: SIZE - 1 }).subscribe();
    const a = m.matchBits([[[1, 2]]], { fromBlock: 0, toBlock: 10 * SIZE - 1 }).subscribe();
    expect(tasks.map((t) => `${t.bit}:${t.sections}`)).toEqual(['9:0', '1:0']);
    // Withdrawn one bit at a time, 1:0's abort would free its worker for 2:0 before bit 2's waits go.
    a.unsubscribe();
    expect(tasks.map((t) => `${t.bit}:${t.sections}`)).toEqual(['9:0', '1:0']);
    expect(tasks.map((t) => t.signal.aborted)).toEqual([false, true]);
    b.unsubscribe();
    expect(tasks[0]!.signal.aborted).toBe(true);
  });

  it('vectors() of one engine are shared across subscriptions: each (bit, section) asked once', async () => {
    const asked: string[] = [];
    const engine = new RetrievalEngine({
      retriever: (t) =>
        new Promise((resolve) => {
          asked.push(...t.sections.map((s) => `${t.bit}:${s}`));
          setTimeout(() => resolve(t.sections.map((s) => Uint8Array.of(s))), 1);
        }),
      vectorLength: 1,
      workers: 4,
      batch: 4,
      wait: 0,
      cacheBytes: 1024,
    });
    const loop = engine.running$.subscribe();
    const answers = await Promise.all(
      [
        [0, 1, 2],
        [1, 2, 3],
        [0, 3],
      ].map((sections) => lastValueFrom(engine.vectors(5, sections))),
    );
    loop.unsubscribe();
    expect(answers).toEqual([
      [0, 1, 2].map((s) => Uint8Array.of(s)),
      [1, 2, 3].map((s) => Uint8Array.of(s)),
      [0, 3].map((s) => Uint8Array.of(s)),
    ]);
    expect(asked.sort()).toEqual(['5:0', '5:1', '5:2', '5:3']);
    expect(engine.stats).toMatchObject({ tasks: 2, vectorsRequested: 4, cachedVectors: 4 });
  });
  it('an answer Observable that stays open after answering is let go of, its signal left alone', async () => {
    let open = 0;
    const signals: AbortSignal[] = [];
    const m = createMatcher({
      retriever: (t) =>
        new Observable<Uint8Array[]>((subscriber) => {
          open++;
          signals.push(t.signal);
          const timeout = setTimeout(
            () => subscriber.next(t.sections.map(() => new Uint8Array(SIZE / 8))),
            1,
          );
          return () => {
            clearTimeout(timeout);
            open--;
          };
        }),
      sectionSize: SIZE,
    });
    await lastValueFrom(m.matchBits([[[1]]], { fromBlock: 0, toBlock: 40 * SIZE - 1 }), { defaultValue: 0 });
    expect(signals.length).toBeGreaterThan(0);
    expect(open).toBe(0);
    expect(signals.some((s) => s.aborted)).toBe(false);
  });
  it('a step starts its tasks before it delivers: a consumer leaving on a delivery sees no call made after it left', async () => {
    let left = false;
    const callsAfterLeaving: string[] = [];
    const m = createMatcher({
      retriever: (t) => {
        if (left) callsAfterLeaving.push(`${t.bit}:${t.sections}`);
        return Promise.resolve(t.sections.map(() => new Uint8Array(SIZE / 8).fill(0xff)));
      },
      sectionSize: SIZE,
      workers: 1,
      batch: 1,
    });
    // 1:0's answer both delivers section 0 (the consumer takes block 0 and leaves) and frees the worker for 1:1.
    await lastValueFrom(
      m.matchBits([[[1]]], { fromBlock: 0, toBlock: 4 * SIZE - 1 }).pipe(
        take(1),
        finalize(() => (left = true)),
      ),
    );
    await new Promise((r) => setTimeout(r, 5));
    expect(callsAfterLeaving).toEqual([]);
  });
});
