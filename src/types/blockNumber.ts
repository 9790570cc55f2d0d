import { InvalidRangeError } from '../errors.js';
import type { BlockNumberInput } from './chain.js';

const QUANTITY_RE = /^0x(0|[1-9a-fA-F][0-9a-fA-F]*)$/;

/**
 * Turns a user's block number into a safe non-negative integer.
 * `'latest'` resolves to `latest` (required then); `'earliest'` is 0.
 * @throws InvalidRangeError on negative, non-integer, unsafe, malformed or unresolvable input.
 */
export function parseBlockNumber(input: BlockNumberInput, latest?: number): number {
  if (input === 'earliest') return 0;
  if (input === 'latest') {
    if (latest === undefined) throw new InvalidRangeError("'latest' is not known here");
    return latest;
  }
  let n: number;
  if (typeof input === 'number') n = input;
  else if (typeof input === 'bigint') {
    if (input < 0n || input > BigInt(Number.MAX_SAFE_INTEGER))
      throw new InvalidRangeError(`block number out of range: ${input}`);
    n = Number(input);
  } else if (typeof input === 'string' && QUANTITY_RE.test(input)) n = Number.parseInt(input, 16);
  else throw new InvalidRangeError(`not a block number: ${JSON.stringify(input)}`);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new InvalidRangeError(`block number must be a non-negative safe integer: ${String(input)}`);
  return n;
}

/**
 * Resolves an inclusive range. Defaults: `fromBlock` 0, `toBlock` `'latest'`.
 * @throws InvalidRangeError when the range is not an object, has a key other than
 * `fromBlock`/`toBlock`, `toBlock < fromBlock`, or an end is invalid.
 */
export function parseBlockRange(
  range: { fromBlock?: BlockNumberInput; toBlock?: BlockNumberInput },
  latest?: number,
): { fromBlock: number; toBlock: number } {
  if (range === null || typeof range !== 'object' || Array.isArray(range))
    throw new InvalidRangeError(
      `range must be an object { fromBlock, toBlock }, got ${range === null ? 'null' : Array.isArray(range) ? 'an array' : typeof range}`,
    );
  for (const key of Object.keys(range))
    if (key !== 'fromBlock' && key !== 'toBlock')
      throw new InvalidRangeError(`unknown range key ${JSON.stringify(key)} (allowed: fromBlock, toBlock)`);
  const fromBlock = parseBlockNumber(range.fromBlock ?? 0, latest);
  const toBlock = parseBlockNumber(range.toBlock ?? 'latest', latest);
  if (toBlock < fromBlock)
    throw new InvalidRangeError(`reversed range: toBlock ${toBlock} < fromBlock ${fromBlock}`);
  return { fromBlock, toBlock };
}
