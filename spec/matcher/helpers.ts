import { from, map } from 'rxjs';
import type { RetrievalTask, Retriever } from '../../src/matcher/types.js';

/** A synthetic chain: does block `n` have bloom bit `bit` set? */
export type World = (bit: number, block: number) => boolean;

/** Block n has bit k iff n % (k + 2) == 0. */
export const modWorld: World = (bit, n) => n % (bit + 2) === 0;

function mix(x: number): number {
  let a = x | 0;
  a = Math.imul(a ^ (a >>> 16), 0x7feb352d);
  a = Math.imul(a ^ (a >>> 15), 0x846ca68b);
  return (a ^ (a >>> 16)) >>> 0;
}

/** Pseudo-random bits, deterministic per (seed, bit, block); each bit set with probability `density`. */
export function randomWorld(seed: number, density: number): World {
  return (bit, block) => mix(seed ^ mix(Math.imul(bit + 1, 0x9e3779b1) ^ mix(block))) / 2 ** 32 < density;
}

/** The rotated vector of `bit` for `section` (MSB-first, bit o ⇔ block section*size+o). */
export function vectorOf(world: World, bit: number, section: number, sectionSize: number): Uint8Array {
  const v = new Uint8Array(sectionSize / 8);
  for (let o = 0; o < sectionSize; o++)
    if (world(bit, section * sectionSize + o)) v[o >> 3]! |= 0x80 >> (o & 7);
  return v;
}

export type Groups = number[][][];

/** Brute force: does block n satisfy every group (AND), some clause (OR), all bits (AND)? */
export function blockMatches(world: World, groups: Groups, n: number): boolean {
  return groups.every((g) => g.some((clause) => clause.every((bit) => world(bit, n))));
}

/** Brute-force answer of a query. */
export function oracle(world: World, groups: Groups, fromBlock: number, toBlock: number): number[] {
  const out: number[] = [];
  for (let n = fromBlock; n <= toBlock; n++) if (blockMatches(world, groups, n)) out.push(n);
  return out;
}

/** Answers synchronously (an array as ObservableInput emits the vectors at subscribe time). */
export function syncRetriever(world: World, sectionSize: number): Retriever {
  return ({ bit, sections }) => [sections.map((s) => vectorOf(world, bit, s, sectionSize))];
}

/** Answers through a promise after a setTimeout of 0..maxDelay ms (seeded). */
export function delayedRetriever(world: World, sectionSize: number, seed: number, maxDelay = 2): Retriever {
  let calls = 0;
  return ({ bit, sections }) =>
    new Promise((resolve) =>
      setTimeout(
        () => resolve(sections.map((s) => vectorOf(world, bit, s, sectionSize))),
        mix(seed + calls++) % (maxDelay + 1),
      ),
    );
}

/** Wraps a retriever so that about `rate` of the entries come back undefined (missing for now). */
export function droppingRetriever(inner: Retriever, seed: number, rate = 0.25): Retriever {
  let n = 0;
  return (task) =>
    from(inner(task)).pipe(
      map((vs) => vs.map((v) => (mix(seed ^ mix(n++)) / 2 ** 32 < rate ? undefined : v))),
    );
}

/** Records every task in `tasks` and never answers (each call stays in flight until aborted). */
export function hangingRetriever(tasks: RetrievalTask[]): Retriever {
  return (task) => {
    tasks.push(task);
    return new Promise(() => undefined);
  };
}

/** Records every retriever call and every (bit, section) pair asked for. */
export class CountingRetriever {
  readonly tasks: RetrievalTask[] = [];
  readonly pairs = new Map<string, number>();
  constructor(private readonly inner: Retriever) {}
  readonly retriever: Retriever = (task) => {
    this.tasks.push(task);
    for (const s of task.sections) {
      const key = `${task.bit}:${s}`;
      this.pairs.set(key, (this.pairs.get(key) ?? 0) + 1);
    }
    return this.inner(task);
  };
  /** Pairs fetched more than once. */
  duplicates(): string[] {
    return [...this.pairs].filter(([, n]) => n > 1).map(([k]) => k);
  }
  get vectors(): number {
    let total = 0;
    for (const n of this.pairs.values()) total += n;
    return total;
  }
}

/** Every distinct (bit, section) a query over `groups` could need, ignoring short-circuit. */
export function allPairs(
  groups: Groups,
  fromBlock: number,
  toBlock: number,
  sectionSize: number,
): Set<string> {
  const out = new Set<string>();
  const bits = new Set(groups.flat(2));
  for (let s = Math.floor(fromBlock / sectionSize); s <= Math.floor(toBlock / sectionSize); s++) {
    for (const b of bits) out.add(`${b}:${s}`);
  }
  return out;
}
