import { Observable, type Subscriber } from 'rxjs';

/**
 * A cold Observable driven by an async function: subscribing starts `run`, unsubscribing
 * aborts the signal it was given (so fetches, timers and file streams it owns can close).
 * `run` emits with `emit`; it should stop soon after `signal.aborted` turns true.
 *
 * Errors: a rejection of `run` is the stream's error. A throw out of `emit` (the
 * consumer's side failing while it handled a value) aborts `run` and becomes the stream's
 * error even if `run` swallows it. Errors after an unsubscribe are dropped (nobody is
 * listening and they are usually the abort itself).
 */
export function fromAsync<T>(
  run: (emit: (value: T) => void, signal: AbortSignal) => Promise<void>,
): Observable<T> {
  return new Observable<T>((subscriber: Subscriber<T>) => {
    const controller = new AbortController();
    let emitFailure: { error: unknown } | undefined;
    const emit = (value: T): void => {
      if (emitFailure) throw emitFailure.error;
      try {
        subscriber.next(value);
      } catch (error) {
        emitFailure = { error };
        controller.abort(error);
        throw error;
      }
    };
    const settle = (error?: { error: unknown }): void => {
      const failure = emitFailure ?? error;
      if (failure) subscriber.error(failure.error);
      else subscriber.complete();
    };
    let started: Promise<void>;
    try {
      started = run(emit, controller.signal);
    } catch (error) {
      settle({ error });
      return;
    }
    started.then(
      () => settle(),
      (error: unknown) => settle({ error }),
    );
    return () => controller.abort();
  });
}
