import { from, Observable, type ObservableInput, type OperatorFunction, type Subscription } from 'rxjs';

/**
 * Like `concatMap`, but up to `concurrency` inner observables run at once; their
 * values still come out in source order (each inner is buffered until those
 * before it completed).
 *
 * ```
 * source:  -a-b-c|              concurrency = 2
 * a:        ---A|
 * b:          -B|
 * c:            --C|
 * output:  -----(AB)--C|
 * ```
 */
export function concatMapEager<T, R>(
  project: (value: T, index: number) => ObservableInput<R>,
  concurrency: number,
): OperatorFunction<T, R> {
  return (source) =>
    new Observable<R>((subscriber) => {
      interface Slot {
        values: R[];
        done: boolean;
        sub?: Subscription;
      }
      const slots: Slot[] = [];
      const waiting: T[] = [];
      let active = 0;
      let index = 0;
      let sourceDone = false;
      const drain = () => {
        while (slots.length > 0) {
          const head = slots[0]!;
          for (const v of head.values.splice(0)) subscriber.next(v);
          if (!head.done) return;
          slots.shift();
        }
        if (sourceDone && waiting.length === 0 && active === 0) subscriber.complete();
      };
      const start = (value: T) => {
        const slot: Slot = { values: [], done: false };
        slots.push(slot);
        active++;
        slot.sub = from(project(value, index++)).subscribe({
          next: (v) => {
            slot.values.push(v);
            if (slots[0] === slot) drain();
          },
          error: (e) => subscriber.error(e),
          complete: () => {
            slot.done = true;
            active--;
            const next = waiting.shift();
            if (next !== undefined) start(next);
            drain();
          },
        });
      };
      const outer = source.subscribe({
        next: (value) => (active < concurrency ? start(value) : waiting.push(value)),
        error: (e) => subscriber.error(e),
        complete: () => {
          sourceDone = true;
          drain();
        },
      });
      return () => {
        outer.unsubscribe();
        for (const slot of slots) slot.sub?.unsubscribe();
      };
    });
}
