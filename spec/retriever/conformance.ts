import { defer, EMPTY, from, type Observable, Subject, throwError, toArray } from 'rxjs';
import { filter, map, mergeMap } from 'rxjs/operators';
import { MissingSectionError, RetrievalError } from '../../src/errors.js';
import { createMatcher, type MatcherOptions } from '../../src/matcher/matcher.js';
import type { RetrievalTask, Retriever } from '../../src/matcher/types.js';
import { type Groups, oracle, randomWorld, vectorOf, type World } from '../matcher/helpers.js';

/**
 * A retriever conformance suite in the style of abstract-level's: any {@link Retriever}
 * factory registers it with {@link retrieverConformance} and gets the same tests.
 *
 * The subject must hold the vectors of {@link ConformanceWorld.world} for sections
 * 0..sections-1 and nothing past them. The tests that are about the matcher's handling
 * of a retriever (abort, errors, wrong shapes) wrap the subject, so that they run with
 * its real timing (synchronous answers, promises, level reads).
 */

/** What a subject must hold. */
export interface ConformanceWorld {
  world: World;
  sectionSize: number;
  sections: number;
}

/** A retriever under test. */
export interface RetrieverSubject {
  retriever: Retriever;
  /**
   * How it answers a section it does not hold: `'undefined'` (missing for now: the matcher
   * asks again) or `'error'` (a {@link MissingSectionError}, as a store does).
   */
  missing: 'undefined' | 'error';
  close(): Promise<void>;
}

const SECTION_SIZE = 64;
const SECTIONS = 6;
const WORLD: ConformanceWorld = { world: randomWorld(7, 0.2), sectionSize: SECTION_SIZE, sections: SECTIONS };
const LAST_BLOCK = SECTION_SIZE * SECTIONS - 1;
/** Small tasks and few workers, so that one query makes many tasks with several in flight. */
const OPTIONS = { sectionSize: SECTION_SIZE, batch: 2, workers: 3 } as const;

/** The answer of one direct call. */
function answer(retriever: Retriever, bit: number, sections: number[]): Promise<unknown[]> {
  const task = { bit, sections, signal: new AbortController().signal };
  return new Promise((resolve, reject) => {
    const got: unknown[] = [];
    from(retriever(task)).subscribe({
      next: (v) => got.push(v),
      error: reject,
      complete: () => resolve(got),
    });
  });
}

/** Runs a query to its end: the blocks, or the error it ended with. */
function run(source: Observable<number>): Promise<{ blocks?: number[]; error?: unknown }> {
  return new Promise((resolve) =>
    source.pipe(toArray()).subscribe({
      next: (blocks) => resolve({ blocks }),
      error: (error: unknown) => resolve({ error }),
    }),
  );
}

/** Fails the answers of one bit in a given way; the other bits pass through. */
function failing(inner: Retriever, bit: number, how: (task: RetrievalTask) => Observable<never>): Retriever {
  return (task) => (task.bit === bit ? how(task) : inner(task));
}

/** Rewrites the answers of one bit. */
function reshaping(inner: Retriever, bit: number, f: (vs: (Uint8Array | undefined)[]) => unknown): Retriever {
  return (task) =>
    task.bit === bit
      ? (from(inner(task)).pipe(map(f)) as Observable<(Uint8Array | undefined)[]>)
      : inner(task);
}

/** Waits for the pending I/O and timers of a level read or a backoff to run. */
const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

const BIT = 1234;
const ONE_BIT: Groups = [[[BIT]]];

export function retrieverConformance(
  name: string,
  make: (world: ConformanceWorld) => Promise<RetrieverSubject>,
) {
  describe(`retriever conformance: ${name}`, () => {
    let subject: RetrieverSubject;
    const matcher = (options: Partial<MatcherOptions> = {}) =>
      createMatcher({ ...OPTIONS, retriever: subject.retriever, ...options });

    beforeAll(async () => {
      subject = await make(WORLD);
    });
    afterAll(() => subject.close());

    describe('answers', () => {
      it.each([0, 5, 1234, 2047])('one vector per requested section, in order (bit %d)', async (bit) => {
        const sections = [3, 0, 5, 1];
        const got = await answer(subject.retriever, bit, sections);
        expect(got).toHaveLength(1);
        const vectors = got[0] as unknown[];
        expect(vectors).toHaveLength(sections.length);
        for (const v of vectors) expect(v).toBeInstanceOf(Uint8Array);
        expect(vectors).toEqual(sections.map((s) => vectorOf(WORLD.world, bit, s, SECTION_SIZE)));
      });

      it('a section asked twice in one task is answered twice', async () => {
        const [vectors] = await answer(subject.retriever, 9, [2, 2]);
        expect(vectors).toEqual([2, 2].map((s) => vectorOf(WORLD.world, 9, s, SECTION_SIZE)));
      });

      it('hands out vectors the caller may keep: asking again gives equal bytes', async () => {
        const [first] = (await answer(subject.retriever, 3, [1])) as Uint8Array[][];
        first![0]!.fill(0xff);
        const [again] = await answer(subject.retriever, 3, [1]);
        expect(again).toEqual([vectorOf(WORLD.world, 3, 1, SECTION_SIZE)]);
      });

      it('through a matcher: the brute-force answer over every stored block', async () => {
        const groups: Groups = [
          [
            [3, 900, 1500],
            [7, 8],
          ],
          [[12], [2047, 0]],
        ];
        const range = { fromBlock: 5, toBlock: LAST_BLOCK - 3 };
        const { blocks, error } = await run(matcher().matchBits(groups, range));
        expect(error).toBeUndefined();
        expect(blocks).toEqual(oracle(WORLD.world, groups, range.fromBlock, range.toBlock));
      });
    });

    describe('missing entries', () => {
      it('an entry answered undefined is asked again and its later answer used', async () => {
        const asked = new Map<string, number>();
        const retriever: Retriever = (task) =>
          from(subject.retriever(task)).pipe(
            map((vs) =>
              vs.map((v, i) => {
                const key = `${task.bit}:${task.sections[i]}`;
                const n = (asked.get(key) ?? 0) + 1;
                asked.set(key, n);
                return n === 1 ? undefined : v;
              }),
            ),
          );
        const { blocks, error } = await run(
          matcher({ retriever }).matchBits(ONE_BIT, { fromBlock: 0, toBlock: LAST_BLOCK }),
        );
        expect(error).toBeUndefined();
        expect(blocks).toEqual(oracle(WORLD.world, ONE_BIT, 0, LAST_BLOCK));
        expect([...asked.values()].every((n) => n === 2)).toBe(true);
        expect(asked.size).toBe(SECTIONS);
      });

      it('a section it does not hold ends the query with a RetrievalError naming bit and section', async () => {
        const tasks: RetrievalTask[] = [];
        const retriever: Retriever = (task) => {
          tasks.push(task);
          return subject.retriever(task);
        };
        const range = { fromBlock: 0, toBlock: LAST_BLOCK + SECTION_SIZE };
        const { blocks, error } = await run(matcher({ retriever, maxAttempts: 3 }).matchBits(ONE_BIT, range));
        expect(blocks).toBeUndefined();
        expect(error).toBeInstanceOf(RetrievalError);
        const e = error as RetrievalError;
        expect(e.bit).toBe(BIT);
        expect(e.sections).toContain(SECTIONS);
        const asks = tasks.filter((t) => t.sections.includes(SECTIONS)).length;
        if (subject.missing === 'error') {
          expect(e.cause).toBeInstanceOf(MissingSectionError);
          expect(asks).toBe(1);
        } else {
          expect(String((e.cause as Error).message)).toMatch(/still missing after 3 attempts/);
          expect(asks).toBe(3);
        }
      });
    });

    describe('abort', () => {
      /** Holds every answer until released; reads each task's signal at once (or only late). */
      function holding(readSignalAtOnce: boolean) {
        const held: { task: RetrievalTask; release: Subject<void>; aborts: number }[] = [];
        const retriever: Retriever = (task) => {
          const release = new Subject<void>();
          const h = { task, release, aborts: 0 };
          if (readSignalAtOnce) task.signal.addEventListener('abort', () => h.aborts++);
          held.push(h);
          return release.pipe(mergeMap(() => from(subject.retriever(task))));
        };
        return { held, retriever };
      }

      it('aborts the signal of every task nobody waits for, and uses no answer after it', async () => {
        const { held, retriever } = holding(true);
        const seen: unknown[] = [];
        const sub = matcher({ retriever })
          .matchBits(ONE_BIT, { fromBlock: 0, toBlock: LAST_BLOCK })
          .subscribe({
            next: (n) => seen.push(n),
            error: (e) => seen.push(e),
            complete: () => seen.push('done'),
          });
        expect(held.length).toBeGreaterThan(0);
        expect(held.map((h) => h.aborts)).toEqual(held.map(() => 0));
        sub.unsubscribe();
        // The listeners ran (a retriever's fetch or read is cancelled through them), once each.
        expect(held.map((h) => h.aborts)).toEqual(held.map(() => 1));
        expect(held.some((h) => h.release.observed)).toBe(false);
        for (const h of held) h.release.next();
        await tick();
        expect(seen).toEqual([]);
      });

      it('a signal first read after the abort is already aborted', () => {
        const { held, retriever } = holding(false);
        matcher({ retriever })
          .matchBits(ONE_BIT, { fromBlock: 0, toBlock: LAST_BLOCK })
          .subscribe()
          .unsubscribe();
        expect(held.length).toBeGreaterThan(0);
        expect(held.every((h) => h.task.signal.aborted)).toBe(true);
      });

      it('leaves the signal of an answered task alone', async () => {
        const tasks: RetrievalTask[] = [];
        const aborted: RetrievalTask[] = [];
        const retriever: Retriever = (task) => {
          tasks.push(task);
          task.signal.addEventListener('abort', () => aborted.push(task));
          return subject.retriever(task);
        };
        const { error } = await run(
          matcher({ retriever }).matchBits(ONE_BIT, { fromBlock: 0, toBlock: LAST_BLOCK }),
        );
        expect(error).toBeUndefined();
        expect(tasks.length).toBeGreaterThan(0);
        expect(aborted).toEqual([]);
      });
    });

    describe('errors end the query with a RetrievalError naming the bit and sections', () => {
      const boom = new Error('boom');
      const cases: [string, (inner: Retriever) => Retriever, (cause: unknown) => void][] = [
        [
          'a synchronous throw',
          (inner) =>
            failing(inner, BIT, () => {
              throw boom;
            }),
          (cause) => expect(cause).toBe(boom),
        ],
        [
          'an error after its own answer was read',
          (inner) =>
            failing(inner, BIT, (task) => from(inner(task)).pipe(mergeMap(() => throwError(() => boom)))),
          (cause) => expect(cause).toBe(boom),
        ],
        [
          'a rejected promise',
          (inner) =>
            failing(inner, BIT, (task) => defer(() => Promise.reject(boom).then(() => inner(task) as never))),
          (cause) => expect(cause).toBe(boom),
        ],
        [
          'completion without an answer',
          (inner) =>
            failing(inner, BIT, (task) => from(inner(task)).pipe(filter(() => false)) as Observable<never>),
          (cause) => expect(String(cause)).toMatch(/without an answer/),
        ],
        [
          'completion without an answer, at once',
          (inner) => failing(inner, BIT, () => EMPTY),
          (cause) => expect(String(cause)).toMatch(/without an answer/),
        ],
        [
          'too few entries',
          (inner) => reshaping(inner, BIT, (vs) => vs.slice(1)),
          (cause) => expect(String(cause)).toMatch(/entries for \d+ sections/),
        ],
        [
          'too many entries',
          (inner) => reshaping(inner, BIT, (vs) => [...vs, vs[0]]),
          (cause) => expect(String(cause)).toMatch(/entries for \d+ sections/),
        ],
        [
          'a vector of the wrong length',
          (inner) => reshaping(inner, BIT, (vs) => vs.map((v) => v?.subarray(1))),
          (cause) => expect(String(cause)).toMatch(/vector of \d+ bytes, expected 8/),
        ],
        [
          'a vector that is not a Uint8Array',
          (inner) => reshaping(inner, BIT, (vs) => vs.map((v) => (v === undefined ? v : Array.from(v)))),
          (cause) => expect(String(cause)).toMatch(/vector of object bytes/),
        ],
        [
          'an answer that is not an array',
          (inner) => reshaping(inner, BIT, () => ({ length: 2 })),
          (cause) => expect(String(cause)).toMatch(/object entries/),
        ],
      ];

      it.each(cases)('%s', async (_, wrap, checkCause) => {
        const tasks: RetrievalTask[] = [];
        const inner = subject.retriever;
        const wrapped = wrap(inner);
        const retriever: Retriever = (task) => {
          tasks.push(task);
          return wrapped(task);
        };
        const range = { fromBlock: 0, toBlock: LAST_BLOCK };
        const { blocks, error } = await run(matcher({ retriever }).matchBits([[[BIT]], [[3]]], range));
        expect(blocks).toBeUndefined();
        expect(error).toBeInstanceOf(RetrievalError);
        const e = error as RetrievalError;
        expect(e.code).toBe('RETRIEVAL_FAILED');
        expect(e.bit).toBe(BIT);
        expect(e.sections.length).toBeGreaterThan(0);
        const asked = tasks.filter((t) => t.bit === BIT).map((t) => t.sections);
        expect(asked).toContainEqual(e.sections);
        checkCause(e.cause);
      });
    });

    it('a query that keeps going after a failure of another query is not affected', async () => {
      const m = createMatcher({
        ...OPTIONS,
        retriever: failing(subject.retriever, BIT, () => throwError(() => new Error('boom'))),
      });
      const bad = await run(m.matchBits(ONE_BIT, { fromBlock: 0, toBlock: LAST_BLOCK }));
      expect(bad.error).toBeInstanceOf(RetrievalError);
      const groups: Groups = [[[4]]];
      const good = await run(m.matchBits(groups, { fromBlock: 0, toBlock: LAST_BLOCK }));
      expect(good).toEqual({ blocks: oracle(WORLD.world, groups, 0, LAST_BLOCK) });
    });
  });
}
