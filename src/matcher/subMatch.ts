import { connect, defer, type MonoTypeOperatorFunction, map, type Observable, zip } from 'rxjs';
import { andAny } from '../bitutil/ops.js';
import { combineGroup } from './combine.js';
import { scheduleBit, type VectorRegistry } from './scheduler.js';
import type { ClauseGroup, SectionBatch } from './types.js';

/**
 * How a group's bits are read, in two stages. A clause's last bit is read only for the
 * sections where the AND of its other bits (and the incoming bitset) left something:
 * with sparse vectors two bits often AND to nothing (at 1% density, 4,096 × 10⁻⁴ = 0.41
 * expected blocks per section, so ~2/3 of sections), and then the third is never read.
 */
export interface GroupPlan {
  /** Distinct bits read for every section of a batch: every clause but its last bit. */
  readonly first: readonly number[];
  /** Distinct bits read only where a clause ending in them is still alive after the first stage. */
  readonly last: readonly number[];
  /** Per clause: indexes into `[...first, ...last]` (what {@link combineGroup} takes). */
  readonly clauseBits: readonly (readonly number[])[];
  /** Per clause: indexes into `first` of the bits the first stage ANDs. */
  readonly heads: readonly (readonly number[])[];
  /** Per clause: index into `last` of its last bit, or -1 when the first stage reads all its bits. */
  readonly tails: readonly number[];
}

/**
 * Splits a group into its two stages. A clause of one bit, or whose last bit another
 * clause reads in the first stage anyway, is read whole in the first stage.
 */
export function planGroup(group: ClauseGroup): GroupPlan {
  const first: number[] = [];
  const last: number[] = [];
  const addTo = (list: number[], bit: number) => {
    const i = list.indexOf(bit);
    if (i >= 0) return i;
    list.push(bit);
    return list.length - 1;
  };
  for (const clause of group) {
    const head = clause.length === 1 ? clause : clause.slice(0, -1);
    for (const bit of head) addTo(first, bit);
  }
  const heads: number[][] = [];
  const tails: number[] = [];
  for (const clause of group) {
    const tail = clause[clause.length - 1]!;
    const whole = clause.length === 1 || first.includes(tail);
    heads.push((whole ? clause : clause.slice(0, -1)).map((bit) => first.indexOf(bit)));
    tails.push(whole ? -1 : addTo(last, tail));
  }
  const clauseBits = group.map((_, c) =>
    tails[c]! < 0 ? heads[c]! : [...heads[c]!, first.length + tails[c]!],
  );
  return { first, last, clauseBits, heads, tails };
}

/**
 * Decides, batch by batch, whether a group reads its clauses' last bits in a second stage
 * (after the first answered, only where needed) or together with the first stage.
 */
export interface Staging {
  /** For the next batch: true to read last bits in a second stage. */
  next(): boolean;
  /** What a batch's first stage showed: of `pairs` (clause, section) with a last bit, `dead` had nothing left. */
  observe(pairs: number, dead: number): void;
}

/** Every batch in two stages (tests; the fewest reads, the most round trips). */
export const alwaysStaged = (): Staging => ({ next: () => true, observe: () => {} });

/**
 * The default: stage only where it pays. A second stage saves the reads of dead clauses but
 * costs a round trip, which only other batches in flight can hide. So the first batch reads
 * everything at once (a short query, and the first match, wait one round trip per group, not
 * two), and later ones are staged while at least 1 in 16 recent (clause, section) pairs had
 * nothing left after the first stage (sparse vectors), or before anything is known.
 */
export function adaptiveStaging(): Staging {
  let first = true;
  let pairs = 0;
  let dead = 0;
  return {
    next: () => {
      if (first) {
        first = false;
        return false;
      }
      return pairs === 0 || dead * 16 >= pairs;
    },
    observe: (p, d) => {
      // Recent batches weigh most: density changes along a chain.
      pairs = pairs * 0.75 + p;
      dead = dead * 0.75 + d;
    },
  };
}

/** A batch on its way in, and how its last bits are read. */
interface Planned {
  batch: SectionBatch;
  staged: boolean;
}

/** A batch between the two stages. */
interface Probed {
  batch: SectionBatch;
  /** Vectors of `plan.first`, per bit, per section of the batch. */
  firstVectors: Uint8Array[][];
  /** Vectors of `plan.last` read with the first stage (unstaged batch), else undefined. */
  early: Uint8Array[][] | undefined;
  /** Per bit of `plan.last`: the sections of the batch that need it in the second stage. */
  asks: number[][];
  /** Per bit of `plan.last`: 1 at each index of the batch that needs it. */
  wanted: Uint8Array[];
}

const zeroes = new Map<number, Uint8Array>();

/** A shared all-zero vector of `length` bytes (read only: never handed out, never written). */
function zeroVector(length: number): Uint8Array {
  let z = zeroes.get(length);
  if (z === undefined) zeroes.set(length, (z = new Uint8Array(length)));
  return z;
}

const NONE: number[] = [];

/** First stage done: which sections each last bit is still needed for; tells `staging` what it saw. */
function probe(plan: GroupPlan, planned: Planned, vectors: Uint8Array[][], staging: Staging): Probed {
  const { batch, staged } = planned;
  const n = batch.sections.length;
  const firstVectors = vectors.slice(0, plan.first.length);
  if (!staged) {
    // Everything is read already: only evidence for the policy, from up to 16 sections.
    observeSample(plan, batch, firstVectors, staging);
    const asks = plan.last.map(() => NONE);
    return { batch, firstVectors, early: vectors.slice(plan.first.length), asks, wanted: [] };
  }
  const asks: number[][] = plan.last.map(() => []);
  const wanted = plan.last.map(() => new Uint8Array(n));
  const headVectors = plan.heads.map((h) => new Array<Uint8Array>(h.length));
  let pairs = 0;
  let alive = 0;
  for (let i = 0; i < n; i++) {
    const incoming = batch.bitsets[i]!;
    for (let c = 0; c < plan.tails.length; c++) {
      const t = plan.tails[c]!;
      if (t < 0) continue;
      const head = plan.heads[c]!;
      const vs = headVectors[c]!;
      for (let j = 0; j < head.length; j++) vs[j] = firstVectors[head[j]!]![i]!;
      pairs++;
      if (!andAny(incoming, vs)) continue;
      alive++;
      if (wanted[t]![i] === 1) continue;
      wanted[t]![i] = 1;
      asks[t]!.push(batch.sections[i]!);
    }
  }
  staging.observe(pairs, pairs - alive);
  return { batch, firstVectors, early: undefined, asks, wanted };
}

/** Tells `staging` how many (clause, section) pairs of a sample of the batch the first stage left dead. */
function observeSample(
  plan: GroupPlan,
  batch: SectionBatch,
  firstVectors: Uint8Array[][],
  staging: Staging,
): void {
  const n = batch.sections.length;
  const step = Math.max(1, Math.floor(n / 16));
  let pairs = 0;
  let dead = 0;
  for (let c = 0; c < plan.tails.length; c++) {
    if (plan.tails[c]! < 0) continue;
    const head = plan.heads[c]!;
    const vs = new Array<Uint8Array>(head.length);
    for (let i = 0; i < n; i += step) {
      for (let j = 0; j < head.length; j++) vs[j] = firstVectors[head[j]!]![i]!;
      pairs++;
      if (!andAny(batch.bitsets[i]!, vs)) dead++;
    }
  }
  staging.observe(pairs, dead);
}

/** Second stage done: the group's answer, with a zero vector where a last bit was not read. */
function finish(plan: GroupPlan, probed: Probed, lastVectors: Uint8Array[][]): SectionBatch {
  const { batch, firstVectors, wanted, early } = probed;
  const n = batch.sections.length;
  if (early !== undefined) return combineGroup(batch, plan.clauseBits, [...firstVectors, ...early]);
  if (n === 0) return combineGroup(batch, plan.clauseBits, firstVectors);
  const zero = zeroVector(batch.bitsets[0]!.length);
  const full = lastVectors.map((answers, t) => {
    const w = wanted[t]!;
    const out = new Array<Uint8Array>(n);
    let k = 0;
    for (let i = 0; i < n; i++) out[i] = w[i] === 1 ? answers[k++]! : zero;
    return out;
  });
  return combineGroup(batch, plan.clauseBits, [...firstVectors, ...full]);
}

/**
 * A sub-matcher for one group (clauses ORed): every batch is zipped with the
 * vectors of each distinct bit of the group (one shared scheduler per bit), and
 * becomes the batch of sections that still have candidate blocks. One batch out
 * per batch in, in order; sections ruled out are never asked of later groups.
 * Inside the group, a batch may read in two stages ({@link planGroup}, `staging`,
 * default {@link adaptiveStaging}): a clause's last bit only for the sections its
 * other bits left alive.
 *
 * ```
 * batches:  -a-----b--------|     group [[7, 9, 5]], b staged
 * bit 7:    ---A-------B----|     (scheduler(7) over a, b)
 * bit 9:    ----A----B------|
 * bit 5:    ---A---------B--|     b: only sections where b ∧ B7 ∧ B9 ≠ 0
 * output:   ----a'-------b'-|     a' = a ∧ A7 ∧ A9 ∧ A5
 * ```
 */
export function subMatch(
  registry: VectorRegistry,
  group: ClauseGroup,
  staging: () => Staging = adaptiveStaging,
): MonoTypeOperatorFunction<SectionBatch> {
  const plan = planGroup(group);
  if (plan.last.length === 0)
    return (source) =>
      source.pipe(
        connect((batches) =>
          zip([
            batches,
            ...plan.first.map((bit) =>
              batches.pipe(
                map((batch) => batch.sections),
                scheduleBit(registry, bit),
              ),
            ),
          ]),
        ),
        map(([batch, ...vectors]) => combineGroup(batch, plan.clauseBits, vectors)),
      );
  const bits = [...plan.first, ...plan.last];
  const firstCount = plan.first.length;
  return (source) =>
    defer(() => {
      const policy = staging();
      return source.pipe(
        // An empty batch (ruled out by earlier groups) reads nothing and does not use up the first batch.
        map((batch): Planned => ({ batch, staged: batch.sections.length > 0 && policy.next() })),
        connect((planned: Observable<Planned>) =>
          zip([
            planned,
            ...bits.map((bit, j) =>
              planned.pipe(
                map((p) => (j < firstCount || !p.staged ? p.batch.sections : NONE)),
                scheduleBit(registry, bit),
              ),
            ),
          ]),
        ),
        map(([planned, ...vectors]) => probe(plan, planned, vectors, policy)),
        connect((probes) =>
          zip([
            probes,
            ...plan.last.map((bit, t) =>
              probes.pipe(
                map((p) => p.asks[t]!),
                scheduleBit(registry, bit),
              ),
            ),
          ]).pipe(map(([probed, ...vectors]) => finish(plan, probed, vectors))),
        ),
      );
    });
}
