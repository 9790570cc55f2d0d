import { connect, type MonoTypeOperatorFunction, map, zip } from 'rxjs';
import { combineGroup } from './combine.js';
import { scheduleBit, type VectorRegistry } from './scheduler.js';
import type { ClauseGroup, SectionBatch } from './types.js';

/**
 * A sub-matcher for one group (clauses ORed): every batch is zipped with the
 * vectors of each distinct bit of the group (one shared scheduler per bit), and
 * becomes the batch of sections that still have candidate blocks. One batch out
 * per batch in, in order; sections ruled out are never asked of later groups.
 *
 * ```
 * batches:  -a-----b------|
 * bit 7:    ---A-------B--|      (scheduler(7) over a, b)
 * bit 9:    ----A----B----|
 * output:   ----a'-----b'-|      a' = a ∧ (A7 ∧ A9 …)
 * ```
 */
export function subMatch(
  registry: VectorRegistry,
  group: ClauseGroup,
): MonoTypeOperatorFunction<SectionBatch> {
  const bits = [...new Set(group.flat())];
  const clauseBits = group.map((clause) => clause.map((bit) => bits.indexOf(bit)));
  return (source) =>
    source.pipe(
      connect((batches) =>
        zip([
          batches,
          ...bits.map((bit) =>
            batches.pipe(
              map((batch) => batch.sections),
              scheduleBit(registry, bit),
            ),
          ),
        ]).pipe(map(([batch, ...vectors]) => combineGroup(batch, clauseBits, vectors))),
      ),
    );
}
