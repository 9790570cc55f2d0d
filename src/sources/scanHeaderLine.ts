import type { Buffer } from 'node:buffer';
import { BLOOM_BYTE_LENGTH, HASH_LENGTH } from '../constants.js';
import { DecodedHeader } from '../indexer/decodedHeader.js';
import type { Hex } from '../types/hex.js';
import { takeBytes } from './byteSlab.js';

/**
 * Makes the field scanner behind {@link scanHeaderLine}: `scan(b, start, end, at)` validates the
 * bytes of one NDJSON line `b[start, end)` as JSON in one pass (nothing is built for the fields it
 * does not need) and, when the line is an object with a plain `number` (a JSON integer or hex
 * quantity string) and string `hash`, `parentHash` and `logsBloom` fields (each once, no escapes),
 * writes `at = [number, hashAt, parentAt, bloomAt]` (the string fields' first bytes, just past
 * their opening quote) and returns true; it returns false for everything else, which callers
 * leave to JSON.parse. The hex strings themselves are the caller's to check, and must be: one
 * of the field's exact length (`0x` and 64 or 512 characters) is skipped unread, so only a
 * check that each of its characters is a hex digit makes the line valid JSON.
 *
 * Self-contained on purpose (it refers to nothing outside its own body): the header worker
 * runs its source text too (see headerWorker.ts), so both threads scan with the same code.
 */
/* istanbul ignore next: its source text also runs in a worker, where counters do not exist */
export function headerFieldScanner(): (
  b: Uint8Array,
  start: number,
  end: number,
  at: Float64Array,
) => boolean {
  const QUOTE = 0x22;
  const BACKSLASH = 0x5c;
  const COMMA = 0x2c;
  const COLON = 0x3a;
  const OPEN_OBJECT = 0x7b;
  const CLOSE_OBJECT = 0x7d;
  const OPEN_ARRAY = 0x5b;
  const CLOSE_ARRAY = 0x5d;
  const MINUS = 0x2d;
  const ZERO = 0x30;
  const NINE = 0x39;
  const X = 0x78;
  const IN_OBJECT = 1;
  const IN_ARRAY = 2;
  /** Nesting deeper than this is left to JSON.parse. */
  const MAX_DEPTH = 64;
  const stack = new Uint8Array(MAX_DEPTH);

  const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
  const NUMBER = ascii('number');
  const HASH = ascii('hash');
  const PARENT_HASH = ascii('parentHash');
  const LOGS_BLOOM = ascii('logsBloom');
  const LITERALS = [ascii('true'), ascii('false'), ascii('null')] as const;

  /** Value of a hex digit's byte, -1 for anything else. */
  const NIBBLE = new Int8Array(256).fill(-1);
  for (let i = 0; i < 10; i++) NIBBLE[ZERO + i] = i;
  for (let i = 0; i < 6; i++) NIBBLE[0x41 + i] = NIBBLE[0x61 + i] = 10 + i;

  return function scan(b: Uint8Array, start: number, end: number, at: Float64Array): boolean {
    let p = ws(b, start, end);
    if (b[p] !== OPEN_OBJECT) return false;
    p = ws(b, p + 1, end);
    let number = -1;
    let hashAt = -1;
    let parentAt = -1;
    let bloomAt = -1;
    for (;;) {
      if (b[p] !== QUOTE) return false;
      const keyStart = p + 1;
      p = scanString(b, p, end);
      if (p < 0) return false;
      const key = keyOf(b, keyStart, p - 1);
      p = ws(b, p, end);
      if (b[p] !== COLON) return false;
      p = ws(b, p + 1, end);
      if (key === 0) {
        p = skipValue(b, p, end);
      } else if (key === 1) {
        if (number >= 0) return false;
        const q = readQuantity(b, p, end);
        if (q === undefined) return false;
        number = q.value;
        p = q.end;
      } else {
        if (b[p] !== QUOTE || (key === 2 ? hashAt : key === 3 ? parentAt : bloomAt) >= 0) return false;
        if (key === 2) hashAt = p + 1;
        else if (key === 3) parentAt = p + 1;
        else bloomAt = p + 1;
        // A "0x…" string of the field's length is not read here: where its closing quote
        // stands, the caller checks every character between is a hex digit (so no quote,
        // escape or control character), which is the JSON check too. Any other length is.
        const q = p + 3 + (key === 4 ? 512 : 64);
        p = q < end && b[q] === QUOTE ? q + 1 : scanString(b, p, end);
      }
      if (p < 0) return false;
      p = ws(b, p, end);
      if (b[p] === COMMA) {
        p = ws(b, p + 1, end);
        continue;
      }
      if (b[p] !== CLOSE_OBJECT) return false;
      p = ws(b, p + 1, end);
      break;
    }
    if (p !== end || number < 0 || hashAt < 0 || parentAt < 0 || bloomAt < 0) return false;
    at[0] = number;
    at[1] = hashAt;
    at[2] = parentAt;
    at[3] = bloomAt;
    return true;
  };

  /** Skips JSON whitespace. */
  function ws(b: Uint8Array, p: number, end: number): number {
    for (; p < end; p++) {
      const c = b[p]!;
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    }
    return p;
  }

  /** Past the closing quote of the string opening at `p`; -1 on an escape (left to JSON.parse), a control character or no end. */
  function scanString(b: Uint8Array, p: number, end: number): number {
    for (p++; p < end; p++) {
      const c = b[p]!;
      if (c === QUOTE) return p + 1;
      if (c < 0x20 || c === BACKSLASH) return -1;
    }
    return -1;
  }

  /** Past the JSON number at `p` (grammar checked); -1 when it is not one. */
  function scanNumber(b: Uint8Array, p: number, end: number): number {
    if (b[p] === MINUS) p++;
    if (b[p] === ZERO) p++;
    else if (isDigit(b[p])) while (isDigit(b[++p]) && p < end);
    else return -1;
    if (b[p] === 0x2e) {
      if (!isDigit(b[++p])) return -1;
      while (isDigit(b[++p]) && p < end);
    }
    if ((b[p]! | 0x20) === 0x65) {
      p++;
      if (b[p] === 0x2b || b[p] === MINUS) p++;
      if (!isDigit(b[p])) return -1;
      while (isDigit(b[++p]) && p < end);
    }
    return p <= end ? p : -1;
  }

  function isDigit(c: number | undefined): boolean {
    return c !== undefined && c >= ZERO && c <= NINE;
  }

  /** Past the JSON value at `p` (any nesting up to MAX_DEPTH); -1 when it is not valid JSON. */
  function skipValue(b: Uint8Array, p: number, end: number): number {
    let depth = 0;
    for (;;) {
      // A value is expected at p.
      const c = b[p];
      if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
        p = ws(b, p + 1, end);
        if (b[p] === (c === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY)) {
          p++;
        } else {
          if (depth === MAX_DEPTH) return -1;
          stack[depth++] = c === OPEN_OBJECT ? IN_OBJECT : IN_ARRAY;
          if (c === OPEN_OBJECT && (p = member(b, p, end)) < 0) return -1;
          continue;
        }
      } else if (c === QUOTE) {
        p = scanString(b, p, end);
      } else if (c === MINUS || isDigit(c)) {
        p = scanNumber(b, p, end);
      } else {
        p = literal(b, p, end);
      }
      if (p < 0) return -1;
      // After a value: close containers, or go on to the next element.
      for (;;) {
        if (depth === 0) return p;
        p = ws(b, p, end);
        const inObject = stack[depth - 1] === IN_OBJECT;
        const d = b[p];
        if (d === COMMA) {
          p = ws(b, p + 1, end);
          if (inObject && (p = member(b, p, end)) < 0) return -1;
          break;
        }
        if (d !== (inObject ? CLOSE_OBJECT : CLOSE_ARRAY)) return -1;
        depth--;
        p++;
      }
    }
  }

  /** Past `"key"` and its colon (and the whitespace after); -1 otherwise. */
  function member(b: Uint8Array, p: number, end: number): number {
    if (b[p] !== QUOTE) return -1;
    p = scanString(b, p, end);
    if (p < 0) return -1;
    p = ws(b, p, end);
    return b[p] === COLON ? ws(b, p + 1, end) : -1;
  }

  function literal(b: Uint8Array, p: number, end: number): number {
    for (const word of LITERALS) {
      if (b[p] !== word[0]) continue;
      if (p + word.length > end) return -1;
      for (let i = 1; i < word.length; i++) if (b[p + i] !== word[i]) return -1;
      return p + word.length;
    }
    return -1;
  }

  /** 0: a field not needed, 1: number, 2: hash, 3: parentHash, 4: logsBloom. */
  function keyOf(b: Uint8Array, start: number, end: number): number {
    const n = end - start;
    const name =
      n === 6 ? NUMBER : n === 4 ? HASH : n === 10 ? PARENT_HASH : n === 9 ? LOGS_BLOOM : undefined;
    if (name === undefined) return 0;
    for (let i = 0; i < n; i++) if (b[start + i] !== name[i]) return 0;
    return n === 6 ? 1 : n === 4 ? 2 : n === 10 ? 3 : 4;
  }

  /**
   * A plain JSON integer (up to 15 digits) or a hex quantity string (`0x` and 1..14 digits) at `p`,
   * as parseQuantity reads them; undefined for anything else (fractions, exponents, signs, too long).
   */
  function readQuantity(b: Uint8Array, p: number, end: number): { value: number; end: number } | undefined {
    let value = 0;
    if (b[p] === QUOTE) {
      if (b[p + 1] !== ZERO || b[p + 2] !== X) return undefined;
      let q = p + 3;
      for (; q < end && q - p - 3 < 15; q++) {
        const v = NIBBLE[b[q]!]!;
        if (v < 0) break;
        value = value * 16 + v;
      }
      const digits = q - p - 3;
      if (digits < 1 || digits > 14 || b[q] !== QUOTE || !Number.isSafeInteger(value)) return undefined;
      return { value, end: q + 1 };
    }
    if (b[p] === ZERO) return isNumberEnd(b[p + 1]) ? { value: 0, end: p + 1 } : undefined;
    let q = p;
    for (; q < end && isDigit(b[q]); q++) value = value * 10 + (b[q]! - ZERO);
    if (q === p || q - p > 15 || !isNumberEnd(b[q])) return undefined;
    return { value, end: q };
  }

  /** True when `c` cannot continue a JSON number (no fraction or exponent follows). */
  function isNumberEnd(c: number | undefined): boolean {
    return c !== 0x2e && c !== 0x45 && c !== 0x65 && !isDigit(c);
  }
}

const scanFields = headerFieldScanner();
const at = new Float64Array(4);

/**
 * Reads a header from the bytes of one NDJSON line, `b[start, end)`, without JSON.parse: the
 * line is validated as JSON in one pass (nothing is built for the fields it does not need) and
 * `number`, `hash`, `parentHash` and `logsBloom` are decoded straight from the bytes.
 *
 * A fast path, exact or silent: it returns a header only for a line that JSON.parse accepts and
 * that {@link parseHeaderJson} reads to the same values, and `undefined` for everything else it
 * does not handle (invalid JSON, string escapes, a `number` that is not a plain integer or hex
 * quantity, a missing, repeated or malformed field, deep nesting). The caller then parses the
 * line the slow way, which yields the value or the error naming what is wrong.
 */
export function scanHeaderLine(b: Buffer, start: number, end: number): DecodedHeader | undefined {
  if (!scanFields(b, start, end, at)) return undefined;
  const hash = hexField(b, at[1]!, HASH_LENGTH);
  const parentHash = hexField(b, at[2]!, HASH_LENGTH);
  const logsBloom = hexField(b, at[3]!, BLOOM_BYTE_LENGTH);
  if (hash === undefined || parentHash === undefined || logsBloom === undefined) return undefined;
  return new DecodedHeader(at[0]!, hash.hex, parentHash.hex, logsBloom.hex, {
    hash: hash.bytes,
    parentHash: parentHash.bytes,
    bloom: logsBloom.bytes,
  });
}

/**
 * The `0x` hex string of exactly `length` bytes starting at `p` (just past its opening quote,
 * already scanned), lowercased, and its bytes; undefined when it is not one.
 */
function hexField(b: Buffer, p: number, length: number): { hex: Hex; bytes: Uint8Array } | undefined {
  const end = p + 2 + 2 * length;
  if (b[p] !== 0x30 || b[p + 1] !== 0x78 || b[end] !== 0x22) return undefined; // 0x..."
  const text = b.toString('latin1', p, end);
  const bytes = takeBytes(length);
  // Node's hex decoder stops at the first pair that is not hex: fewer bytes means a bad digit.
  if (bytes.write(text.slice(2), 0, length, 'hex') !== length) return undefined;
  return { hex: text.toLowerCase() as Hex, bytes };
}
