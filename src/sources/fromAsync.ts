import { Observable, type Subscriber } from 'rxjs';

/**
 * A cold Observable driven by an async function: subscribing starts `run`, unsubscribing
 * aborts the signal it was given (so fetches, timers and file streams it owns can close).
 * `run` emits with `emit`; it should stop soon after `signal.aborted` turns true.
 * Errors after an unsubscribe are dropped (nobody is listening and they are usually the abort itself).
 */
export function fromAsync<T>(
  run: (emit: (value: T) => void, signal: AbortSignal) => Promise<void>,
): Observable<T> {
  return new Observable<T>((subscriber: Subscriber<T>) => {
    const controller = new AbortController();
    const emit = (value: T): void => subscriber.next(value);
    run(emit, controller.signal).then(
      () => subscriber.complete(),
      (err: unknown) => subscriber.error(err),
    );
    return () => controller.abort();
  });
}
