import { Observable, type OperatorFunction, type Subscription } from 'rxjs';

/** Where a scheduler gets vectors from: per (bit, batch of sections), an Observable of them. */
export interface VectorRegistry {
  /**
   * The vectors of `sections` of `bit` in section order: emits once and completes. Shared
   * and replayed by the registry (a cached or pending (bit, section) is never fetched
   * twice); unsubscribing withdraws the wait.
   */
  vectors(bit: number, sections: readonly number[]): Observable<Uint8Array[]>;
}

interface Slot {
  vectors: Uint8Array[] | undefined;
  subscription: Subscription | undefined;
}

/**
 * The per-bit scheduler: maps each batch of section numbers to that bit's vectors
 * for them, over the registry's shared, replaying, deduplicating Observables. Each
 * batch is subscribed as soon as it arrives (so requests overlap), answers come out
 * in request order, completion waits for the last one. Unsubscribing (or an error)
 * unsubscribes every batch still open, which withdraws its waits.
 *
 * ```
 * sections: -a----b----c--|        a = [0, 1], b = [2], c = [3]
 * a:        ^--------------(A|)
 * b:        ------^----(B|)
 * c:        -----------^---(C|)
 * vectors:  ---------------(ABC|)  answers of b, c wait for a
 * ```
 */
export function scheduleBit(
  registry: VectorRegistry,
  bit: number,
): OperatorFunction<readonly number[], Uint8Array[]> {
  return (source) =>
    new Observable<Uint8Array[]>((subscriber) => {
      const slots: Slot[] = [];
      let sourceDone = false;
      const flush = () => {
        while (slots.length > 0 && slots[0]!.vectors !== undefined && !subscriber.closed) {
          subscriber.next(slots.shift()!.vectors!);
        }
        if (sourceDone && slots.length === 0) subscriber.complete();
      };
      const subscription = source.subscribe({
        next: (sections) => {
          const slot: Slot = { vectors: undefined, subscription: undefined };
          slots.push(slot);
          if (sections.length === 0) {
            // Nothing to read (e.g. a clause's last bit where its other bits left no block).
            slot.vectors = [];
            flush();
            return;
          }
          slot.subscription = registry.vectors(bit, sections).subscribe({
            next: (vectors) => {
              slot.vectors = vectors;
              flush();
            },
            error: (error) => subscriber.error(error),
          });
        },
        error: (error) => subscriber.error(error),
        complete: () => {
          sourceDone = true;
          flush();
        },
      });
      return () => {
        subscription.unsubscribe();
        for (const slot of slots.splice(0)) slot.subscription?.unsubscribe();
      };
    });
}
