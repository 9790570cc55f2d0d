import { Observable, type ObservableInput, type OperatorFunction } from 'rxjs';
import { Fifo } from './fifo.js';
import { checkConcurrency, feedPump, orderedPump } from './orderedPump.js';

/**
 * Like `concatMap`, but up to `concurrency` inner observables run at once; their
 * values still come out in source order (each inner is buffered until those
 * before it completed). An inner holds its slot until its values are out, so at
 * most `concurrency` inners are running or buffered. Stack-safe: synchronous
 * inners are started from a loop, not from each other's `complete`, so any
 * number of them runs in constant stack depth.
 *
 * Errors: a throwing `project`, an inner's error and the source's error all end
 * the stream with that error; `concurrency` that is not a positive integer fails
 * the subscription with an `InvalidOptionError`.
 *
 * ```
 * source:  -a-b-c|              concurrency = 2
 * a:        ---A|
 * b:          -B|
 * c:            --C|
 * output:  ----AB-C|
 * ```
 * @example
 * ```ts
 * // Receipts of many blocks, 8 requests at a time, still in block order.
 * blocks$.pipe(concatMapEager((n) => receipts({ number: n }), 8)).subscribe((logs) => console.log(logs));
 * ```
 */
export function concatMapEager<T, R>(
  project: (value: T, index: number) => ObservableInput<R>,
  concurrency: number,
): OperatorFunction<T, R> {
  return (source) =>
    new Observable<R>((subscriber) => {
      const invalid = checkConcurrency(concurrency);
      if (invalid) {
        subscriber.error(invalid);
        return;
      }
      const backlog = new Fifo<T>();
      let sourceDone = false;
      const pump = orderedPump(
        subscriber,
        concurrency,
        {
          take: () => (backlog.length > 0 ? { value: backlog.shift() } : undefined),
          ended: () => sourceDone && backlog.length === 0,
        },
        project,
      );
      const outer = feedPump(
        subscriber,
        source,
        pump,
        (value) => backlog.push(value),
        () => (sourceDone = true),
      );
      return () => {
        outer.unsubscribe();
        pump.teardown();
        backlog.clear();
      };
    });
}
