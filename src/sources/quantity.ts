import { SourceError } from '../errors.js';
import type { Hex } from '../types/hex.js';

const QUANTITY_RE = /^0x[0-9a-fA-F]{1,14}$/;

/**
 * Reads a non-negative safe integer given as a JSON number or a hex quantity (`0x1b4`),
 * as JSON-RPC and hand-written NDJSON files write them.
 * @throws SourceError naming `what` otherwise.
 */
export function parseQuantity(value: unknown, what: string): number {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && QUANTITY_RE.test(value)) n = Number.parseInt(value, 16);
  else throw new SourceError(`${what} is not a quantity: ${JSON.stringify(value)}`);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new SourceError(`${what} out of range: ${JSON.stringify(value)}`);
  return n;
}

/** A non-negative integer as a JSON-RPC hex quantity (`0x0`, `0x1b4`). */
export function toQuantity(n: number): Hex {
  return `0x${n.toString(16)}`;
}
