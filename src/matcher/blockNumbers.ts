import { Observable, type OperatorFunction } from 'rxjs';
import type { SectionBatch } from './types.js';

/**
 * The candidate blocks of a batch, ascending, lazily: bit o of `bitsets[i]` (MSB first)
 * is block `sections[i] * sectionSize + o`.
 */
export function* blocksOfBatch(batch: SectionBatch, sectionSize: number): Generator<number, void, undefined> {
  const { sections, bitsets } = batch;
  for (let i = 0; i < sections.length; i++) {
    const base = sections[i]! * sectionSize;
    const bits = bitsets[i]!;
    for (let byte = 0; byte < bits.length; byte++) {
      const b = bits[byte]!;
      if (b === 0) continue;
      for (let k = 0; k < 8; k++) if (b & (0x80 >> k)) yield base + byte * 8 + k;
    }
  }
}

/**
 * The tail of the chain: each batch's set bits as block numbers, ascending
 * (bitsets were clipped to the range at the head). `onBatch` runs after a batch's
 * numbers are out, which is where the head gets its credit back. A throw from
 * `onBatch` (or from the head it wakes up) errors the stream.
 *
 * ```
 * batches: --a------b--|     a = {0: 0b1010…}, b = {}
 * blocks:  --(02)------|
 * ```
 */
export function blockNumbers(
  sectionSize: number,
  onBatch: () => void,
): OperatorFunction<SectionBatch, number> {
  return (source) =>
    new Observable<number>((subscriber) =>
      source.subscribe({
        next: (batch) => {
          try {
            // blocksOfBatch's loop, inlined: a generator step per block costs more than the emission.
            const { sections, bitsets } = batch;
            for (let i = 0; i < sections.length; i++) {
              const base = sections[i]! * sectionSize;
              const bits = bitsets[i]!;
              for (let byte = 0; byte < bits.length; byte++) {
                let b = bits[byte]!;
                while (b !== 0) {
                  const k = Math.clz32(b) - 24;
                  b ^= 0x80 >>> k;
                  if (subscriber.closed) return;
                  subscriber.next(base + byte * 8 + k);
                }
              }
            }
            onBatch();
          } catch (error) {
            subscriber.error(error);
          }
        },
        error: (error) => subscriber.error(error),
        complete: () => subscriber.complete(),
      }),
    );
}
