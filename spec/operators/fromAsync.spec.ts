import { Subscriber } from 'rxjs';
import { fromAsync } from '../../src/operators/fromAsync.js';
import { sleep } from '../../src/sources/sleep.js';

/** A subscriber whose `next` throws straight out (no RxJS safety net), like a downstream that overflowed its stack. */
function throwingSubscriber(boom: Error, outcome: { error?: unknown; completed?: boolean }) {
  return new Subscriber<number>({
    next: () => {
      throw boom;
    },
    error: (e: unknown) => (outcome.error = e),
    complete: () => (outcome.completed = true),
  } as never);
}

const settled = () => new Promise((r) => setTimeout(r, 10));

describe('fromAsync', () => {
  it('a throw out of emit is the stream error even when run swallows it', async () => {
    const boom = new Error('downstream');
    const outcome: { error?: unknown; completed?: boolean } = {};
    let signal: AbortSignal | undefined;
    fromAsync<number>(async (emit, s) => {
      signal = s;
      for (let i = 0; i < 3; i++) {
        try {
          emit(i);
        } catch {
          // a careless source
        }
      }
    }).subscribe(throwingSubscriber(boom, outcome));
    await settled();
    expect(outcome.completed).toBeUndefined();
    expect(outcome.error).toBe(boom);
    expect(signal?.aborted).toBe(true);
  });

  it('a throw out of emit that run lets through is the stream error (not the abort reason)', async () => {
    const boom = new Error('downstream');
    const outcome: { error?: unknown; completed?: boolean } = {};
    fromAsync<number>(async (emit, signal) => {
      emit(1);
      await sleep(1, signal);
    }).subscribe(throwingSubscriber(boom, outcome));
    await settled();
    expect(outcome.error).toBe(boom);
  });

  it('a run that throws synchronously errors the stream', () => {
    let error: unknown;
    fromAsync<number>((() => {
      throw new Error('sync');
    }) as never).subscribe({ error: (e) => (error = e) });
    expect(error).toEqual(new Error('sync'));
  });

  it('unsubscribing aborts the signal and leaves no timer behind', async () => {
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    let signal: AbortSignal | undefined;
    const sub = fromAsync<number>(async (_emit, s) => {
      signal = s;
      await sleep(60_000, s);
    }).subscribe({ error: () => {} });
    sub.unsubscribe();
    expect(signal?.aborted).toBe(true);
    await settled();
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBeLessThanOrEqual(
      before,
    );
  });

  it('emits and completes', async () => {
    const values = await new Promise<number[]>((resolve, reject) => {
      const out: number[] = [];
      fromAsync<number>(async (emit) => {
        emit(1);
        await Promise.resolve();
        emit(2);
      }).subscribe({ next: (v) => out.push(v), error: reject, complete: () => resolve(out) });
    });
    expect(values).toEqual([1, 2]);
  });
});
