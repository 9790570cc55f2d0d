import { from, type Observable, type ObservableInput, type Subscriber, type Subscription } from 'rxjs';
import { InvalidOptionError } from '../errors.js';

/** Where an {@link orderedPump} takes its inputs from. */
export interface PumpInput<I> {
  /** The next input, or `undefined` when none is available right now. May throw (the stream errors). */
  take(): { value: I } | undefined;
  /** True once {@link take} will never give anything again. */
  ended(): boolean;
}

/** The running pump of one subscription. */
export interface Pump {
  /** Call whenever an input may have become available or the input ended. Never recurses. */
  run(): void;
  /** Unsubscribes every inner still running. */
  teardown(): void;
}

interface Slot<R> {
  values: R[];
  read: number;
  done: boolean;
  sub: Subscription | undefined;
}

/**
 * The engine of the eager, ordered operators (`concatMapEager`, `fetchCandidates`): up to
 * `concurrency` inners, each holding its slot until its values are out, emitted in input order.
 *
 * Stack safety: RxJS's `mergeMap` starts the next buffered inner from inside the previous
 * inner's `complete`, so N synchronously completing inners nest N frames deep. Here every
 * callback only records what happened and calls {@link Pump.run}; a call made while the loop
 * is already running returns at once and the loop picks the change up, so the depth stays
 * constant whatever the number of inputs. Throws inside the loop (a `project`, an input's
 * iterator) become `subscriber.error`, never an unhandled error.
 */
export function orderedPump<I, R>(
  subscriber: Subscriber<R>,
  concurrency: number,
  input: PumpInput<I>,
  project: (value: I, index: number) => ObservableInput<R>,
): Pump {
  const slots: Slot<R>[] = [];
  let index = 0;
  let pumping = false;

  const start = (value: I): void => {
    const slot: Slot<R> = { values: [], read: 0, done: false, sub: undefined };
    slots.push(slot);
    const inner = from(project(value, index++));
    slot.sub = inner.subscribe({
      next: guarded(subscriber, (v: R) => {
        // The head with nothing buffered emits straight through; anything else waits its turn.
        if (slots[0] === slot && slot.read === slot.values.length) subscriber.next(v);
        else slot.values.push(v);
      }),
      error: (e) => subscriber.error(e),
      complete: () => {
        slot.done = true;
        run();
      },
    });
  };

  const step = (): boolean => {
    const head = slots[0];
    if (head !== undefined && head.read < head.values.length) {
      const v = head.values[head.read]!;
      head.values[head.read++] = undefined as R; // let it be collected
      if (head.read === head.values.length) {
        head.values = [];
        head.read = 0;
      }
      subscriber.next(v);
      return true;
    }
    if (head?.done) {
      slots.shift();
      return true;
    }
    if (slots.length < concurrency) {
      const next = input.take();
      if (next !== undefined) {
        start(next.value);
        return true;
      }
    }
    return false;
  };

  const run = (): void => {
    if (pumping) return;
    pumping = true;
    try {
      while (!subscriber.closed && step()) {
        // each step emits one value, retires the head or starts one inner
      }
      if (!subscriber.closed && slots.length === 0 && input.ended()) subscriber.complete();
    } catch (error) {
      subscriber.error(error);
    } finally {
      pumping = false;
    }
  };

  return {
    run,
    teardown: () => {
      for (const slot of slots.splice(0)) slot.sub?.unsubscribe();
    },
  };
}

/** Checks a `concurrency` option: a positive integer, else an {@link InvalidOptionError}. */
export function checkConcurrency(concurrency: number): InvalidOptionError | undefined {
  return Number.isSafeInteger(concurrency) && concurrency >= 1
    ? undefined
    : new InvalidOptionError('concurrency', `must be a positive integer, got ${concurrency}`);
}

/** Wraps an observer callback so that a throw reaches `subscriber.error` instead of RxJS's unhandled-error path. */
export function guarded<A extends unknown[]>(
  subscriber: Subscriber<unknown>,
  fn: (...args: A) => void,
): (...args: A) => void {
  return (...args) => {
    try {
      fn(...args);
    } catch (error) {
      subscriber.error(error);
    }
  };
}

/**
 * Subscribes what feeds a pump: each value is queued with `push`, completion is
 * recorded with `end`, and both run the pump; throws go to `subscriber.error`.
 */
export function feedPump<T>(
  subscriber: Subscriber<unknown>,
  source: Observable<T>,
  pump: Pump,
  push: (value: T) => void,
  end: () => void,
): Subscription {
  return source.subscribe({
    next: guarded(subscriber, (value: T) => {
      if (subscriber.closed) return;
      push(value);
      pump.run();
    }),
    error: (error) => subscriber.error(error),
    complete: guarded(subscriber, () => {
      end();
      pump.run();
    }),
  });
}
