/** Milliseconds `f` takes, and its result. */
export async function timed<T>(f: () => Promise<T>): Promise<[number, Awaited<T>]> {
  const t0 = performance.now();
  const r = await f();
  return [performance.now() - t0, r];
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * Runs two contenders side by side: one warm-up each, then `rounds` rounds alternating which
 * goes first (so GC debt and cache state left by one does not always land on the other).
 * Returns the median milliseconds of each, the median of the per-round ratios right ÷ left (two
 * runs next to each other share the machine's load of the moment, so this ratio is steadier
 * than a ratio of medians on a busy machine) and the result of their last run.
 * @throws when the two answer differently (`same` compares results).
 */
export async function sideBySide<A, B>(
  rounds: number,
  left: () => Promise<A>,
  right: () => Promise<B>,
  same: (a: A, b: B) => string | undefined,
): Promise<{ left: number; right: number; ratio: number; a: A; b: B }> {
  let a = await left();
  let b = await right();
  const first = same(a, b);
  if (first) throw new WrongAnswerError(first);
  const lt: number[] = [];
  const rt: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      const [t1, x] = await timed(left);
      const [t2, y] = await timed(right);
      lt.push(t1);
      rt.push(t2);
      a = x;
      b = y;
    } else {
      const [t2, y] = await timed(right);
      const [t1, x] = await timed(left);
      lt.push(t1);
      rt.push(t2);
      a = x;
      b = y;
    }
    ratios.push(rt[r]! / lt[r]!);
    const problem = same(a, b);
    if (problem) throw new WrongAnswerError(problem);
  }
  return { left: median(lt), right: median(rt), ratio: median(ratios), a, b };
}

/** A figure whose answer disagrees with its oracle: the run fails (exit 1). */
export class WrongAnswerError extends Error {
  override name = 'WrongAnswerError';
}
