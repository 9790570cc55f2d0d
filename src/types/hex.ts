import { InvalidHexError } from '../errors.js';

/** A `0x`-prefixed hex string. */
export type Hex = `0x${string}`;

const HEX_RE = /^0x[0-9a-fA-F]*$/;

/**
 * Decodes `0x`-prefixed hex into bytes.
 * @param length when given, the exact byte length required.
 * @throws InvalidHexError on a missing prefix, odd length, non-hex digit or wrong length.
 */
export function hexToBytes(hex: string, length?: number): Uint8Array {
  if (typeof hex !== 'string' || !HEX_RE.test(hex))
    throw new InvalidHexError(`not a 0x-prefixed hex string: ${describe(hex)}`, hex);
  if (hex.length % 2 !== 0)
    throw new InvalidHexError(`hex string has an odd number of digits: ${describe(hex)}`, hex);
  const n = (hex.length - 2) / 2;
  if (length !== undefined && n !== length) {
    throw new InvalidHexError(`expected ${length} bytes, got ${n}: ${describe(hex)}`, hex);
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Number.parseInt(hex.slice(2 + 2 * i, 4 + 2 * i), 16);
  return out;
}

const HEX_BYTE: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Encodes bytes as lowercase `0x`-prefixed hex. */
export function bytesToHex(bytes: Uint8Array): Hex {
  let s = '0x';
  for (let i = 0; i < bytes.length; i++) s += HEX_BYTE[bytes[i]!];
  return s as Hex;
}

/** True when `value` is a `0x`-prefixed string of even length with only hex digits. */
export function isHex(value: unknown): value is Hex {
  return typeof value === 'string' && HEX_RE.test(value) && value.length % 2 === 0;
}

function describe(v: unknown): string {
  const s = typeof v === 'string' ? v : String(v);
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 77)}...` : s);
}
