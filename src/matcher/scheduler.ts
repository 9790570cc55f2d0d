import { Observable, type OperatorFunction } from 'rxjs';
import type { VectorEntry, VectorRequest } from './engine.js';

/** Where a scheduler gets vectors from: the engine's shared, deduplicating registry. */
export interface VectorRegistry {
  acquire(bit: number, sections: readonly number[], request: VectorRequest): VectorEntry[];
  release(entries: readonly VectorEntry[], request: VectorRequest): void;
}

/**
 * The per-bit scheduler: maps each batch of section numbers to that bit's
 * vectors for them. Requests go out as soon as a batch arrives (so batches
 * overlap), a section already cached or pending is shared instead of fetched
 * again, and answers come out in request order. Unsubscribing withdraws every
 * wait still open.
 *
 * ```
 * sections: -a----b----c--|        a = [0, 1], b = [2], c = [3]
 * vectors:  ------------(ABC)|     delivered b, c, then a: emitted a, b, c
 * ```
 */
export function scheduleBit(
  registry: VectorRegistry,
  bit: number,
): OperatorFunction<readonly number[], Uint8Array[]> {
  return (source) =>
    new Observable<Uint8Array[]>((subscriber) => {
      interface Waiting extends VectorRequest {
        entries: VectorEntry[];
      }
      const queue: Waiting[] = [];
      let sourceDone = false;
      // A synchronous retriever can answer while `acquire` is still running, before
      // the request knows its entries: hold ready/fail until acquire has returned.
      let acquiring = false;
      let failure: { error: unknown } | undefined;
      // Called from the engine while it settles a task for many waiters: a throw here must
      // end this stream, not escape into the engine and leave the other waiters unwoken.
      const flush = () => {
        try {
          while (queue.length > 0 && queue[0]!.remaining === 0 && !subscriber.closed) {
            const { entries } = queue.shift()!;
            const vectors: Uint8Array[] = new Array(entries.length);
            for (let i = 0; i < entries.length; i++) vectors[i] = entries[i]!.vector!;
            subscriber.next(vectors);
          }
          if (sourceDone && queue.length === 0) subscriber.complete();
        } catch (error) {
          subscriber.error(error);
        }
      };
      const subscription = source.subscribe({
        next: (sections) => {
          const request: Waiting = {
            remaining: 0,
            entries: [],
            ready: () => {
              if (!acquiring) flush();
            },
            fail: (error) => {
              if (acquiring) failure ??= { error };
              else subscriber.error(error);
            },
          };
          queue.push(request);
          acquiring = true;
          try {
            request.entries = registry.acquire(bit, sections, request);
          } catch (error) {
            failure ??= { error };
          } finally {
            acquiring = false;
          }
          if (failure) subscriber.error(failure.error);
          else flush();
        },
        error: (error) => subscriber.error(error),
        complete: () => {
          sourceDone = true;
          flush();
        },
      });
      return () => {
        subscription.unsubscribe();
        for (const request of queue.splice(0)) registry.release(request.entries, request);
      };
    });
}
