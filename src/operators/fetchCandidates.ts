import { Observable, type ObservableInput, Subject } from 'rxjs';
import { Fifo } from './fifo.js';
import { checkConcurrency, feedPump, orderedPump } from './orderedPump.js';

/**
 * Fetches the blocks of a pull-driven stream of candidate batches, in block order.
 * Subscribes to `batches(credits$)`; block numbers are pulled lazily from each
 * batch's iterable as fetch slots free up (at most `concurrency` fetches running
 * or buffered), and `credits$` gets one value each time a batch has been fully
 * taken. Memory is bounded by the producer's lookahead and `concurrency`,
 * whatever the number of candidates. Stack-safe with synchronous fetches.
 *
 * Errors: a throwing `fetch` or iterator, a fetch's error and the producer's
 * error end the stream; an invalid `concurrency` fails the subscription with an
 * `InvalidOptionError`. Unsubscribing cancels the fetches in flight.
 *
 * ```
 * batches:  a---b|          a = [1, 2], b = [3]; concurrency = 2
 * fetch(n): --N|
 * output:   --12--3|        (2 waits for 1, which retires at frame 3)
 * credits:  ---cc           (a is seen used up when a slot frees; b as soon as 3 started)
 * ```
 * @example
 * ```ts
 * fetchCandidates(
 *   (credits$) => matcher.matchBatches(groups, range, credits$).pipe(map((b) => blocksOfBatch(b, matcher.sectionSize))),
 *   (block) => receipts({ number: block }),
 *   8,
 * ).subscribe((logs) => console.log(logs));
 * ```
 */
export function fetchCandidates<R>(
  batches: (credits$: Observable<void>) => Observable<Iterable<number>>,
  fetch: (block: number) => ObservableInput<R>,
  concurrency: number,
): Observable<R> {
  return new Observable<R>((subscriber) => {
    const invalid = checkConcurrency(concurrency);
    if (invalid) {
      subscriber.error(invalid);
      return;
    }
    const credits = new Subject<void>();
    const queued = new Fifo<Iterable<number>>();
    let current: Iterator<number> | undefined;
    let producerDone = false;
    const take = (): { value: number } | undefined => {
      for (;;) {
        if (current === undefined) {
          if (queued.length === 0) return undefined;
          current = queued.shift()[Symbol.iterator]();
        }
        const step = current.next();
        if (step.done !== true) return { value: step.value };
        current = undefined;
        // May make the producer emit (or complete) right here: that only queues.
        credits.next();
      }
    };
    const pump = orderedPump(
      subscriber,
      concurrency,
      { take, ended: () => producerDone && current === undefined && queued.length === 0 },
      (block: number) => fetch(block),
    );
    const producer = feedPump(
      subscriber,
      batches(credits.asObservable()),
      pump,
      (batch) => queued.push(batch),
      () => (producerDone = true),
    );
    return () => {
      producer.unsubscribe();
      pump.teardown();
      credits.complete();
      queued.clear();
      const iterator = current;
      current = undefined;
      iterator?.return?.();
    };
  });
}
