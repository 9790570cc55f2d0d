/** A set of block numbers summarised: how many, the first, their sum and a position-weighted hash (order-sensitive). */
export interface Answer {
  count: number;
  /** The first (lowest) block, -1 when none. */
  first: number;
  sum: number;
  hash: number;
}

export const emptyAnswer = (): Answer => ({ count: 0, first: -1, sum: 0, hash: 0 });

/** Adds `block` to `a` (blocks must arrive ascending for two equal sets to hash equally). */
export function addBlock(a: Answer, block: number): Answer {
  if (a.count++ === 0) a.first = block;
  a.sum += block;
  a.hash = (Math.imul(a.hash, 31) + block) | 0;
  return a;
}

/** Undefined when equal, else a message naming both. */
export function compareAnswers(what: string, expected: Answer, actual: Answer): string | undefined {
  if (
    expected.count === actual.count &&
    expected.first === actual.first &&
    expected.sum === actual.sum &&
    expected.hash === actual.hash
  )
    return undefined;
  return `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
}
