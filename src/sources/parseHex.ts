import { SourceError } from '../errors.js';
import { type Hex, isHex } from '../types/hex.js';

/**
 * Validates a hex field of source data (exact byte length when given) and returns it lowercase.
 * @throws SourceError naming `what` (source data is not user input, so not an InvalidHexError).
 */
export function parseHex(value: unknown, what: string, length?: number): Hex {
  if (!isHex(value)) throw new SourceError(`bad ${what}: not even-length 0x hex: ${preview(value)}`);
  if (length !== undefined && value.length !== 2 + 2 * length) {
    throw new SourceError(`bad ${what}: expected ${length} bytes, got ${(value.length - 2) / 2}`);
  }
  return value.toLowerCase() as Hex;
}

function preview(value: unknown): string {
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
