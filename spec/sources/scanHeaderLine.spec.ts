import fc from 'fast-check';
import { DecodedHeader } from '../../src/indexer/decodedHeader.js';
import { parseHeaderJson } from '../../src/sources/parseHeaderJson.js';
import { scanHeaderLine } from '../../src/sources/scanHeaderLine.js';
import type { BlockHeader } from '../../src/types/chain.js';
import { hexToBytes } from '../../src/types/hex.js';

/** The slow path's answer: the header, or undefined when it throws. */
function slow(line: string): BlockHeader | undefined {
  try {
    return parseHeaderJson(JSON.parse(line));
  } catch {
    return undefined;
  }
}

/** Scans `line` placed between other lines of a larger buffer (the scanner must keep to its bounds). */
function fast(line: string): DecodedHeader | undefined {
  const before = Buffer.from('{"number":1}\n');
  const b = Buffer.concat([before, Buffer.from(line), Buffer.from('\n"0x00",7}\n')]);
  return scanHeaderLine(b, before.length, b.length - 11);
}

/** The fast path agrees with JSON.parse + parseHeaderJson whenever it answers; returns whether it did. */
function agrees(line: string): boolean {
  const got = fast(line);
  if (got === undefined) return false;
  const want = slow(line);
  expect(want).toBeDefined();
  expect({ ...got }).toEqual(want);
  const bytes = DecodedHeader.bytesOf(got)!;
  expect(bytes.hash).toEqual(hexToBytes(want!.hash));
  expect(bytes.parentHash).toEqual(hexToBytes(want!.parentHash));
  expect(bytes.bloom).toEqual(hexToBytes(want!.logsBloom));
  return true;
}

const hexOf = (n: number) =>
  fc.uint8Array({ minLength: n, maxLength: n }).map((b) => `0x${Buffer.from(b).toString('hex')}`);
const mixedCase = (hex: fc.Arbitrary<string>) =>
  fc.tuple(hex, fc.boolean()).map(([h, up]) => (up ? `0x${h.slice(2).toUpperCase()}` : h));
/** Strings without escapes (an escape anywhere sends the line to JSON.parse, by design). */
const plainString = fc.string({ unit: fc.constantFrom(...'abcXYZ 019_-/é€'), maxLength: 12 });
const scalar = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  plainString,
);
const extraValue = fc.oneof(
  scalar,
  fc.array(fc.oneof(scalar, fc.array(scalar, { maxLength: 3 })), { maxLength: 4 }),
  fc.dictionary(plainString, fc.oneof(scalar, fc.dictionary(plainString, scalar, { maxKeys: 2 })), {
    maxKeys: 3,
  }),
);

/** Header objects as a node or a hand-written file may write them: any key order, extra fields, either number form. */
const headerObject = fc
  .record({
    number: fc.oneof(
      fc.nat({ max: 2 ** 40 }),
      fc.nat({ max: 2 ** 40 }).map((n) => `0x${n.toString(16)}`),
    ),
    hash: mixedCase(hexOf(32)),
    parentHash: mixedCase(hexOf(32)),
    logsBloom: mixedCase(hexOf(256)),
    extra: fc.dictionary(plainString, extraValue, { maxKeys: 5 }),
    indent: fc.constantFrom(undefined, 1, '\t'),
    seed: fc.nat(),
  })
  .map(({ extra, indent, seed, ...fields }) => {
    const entries = [...Object.entries(extra), ...Object.entries(fields)];
    entries.sort((a, b) => ((a[0].length * 7919 + seed) % 13) - ((b[0].length * 7919 + seed) % 13));
    // pretty-printed output is one line here: newlines become spaces
    return JSON.stringify(Object.fromEntries(entries), null, indent).replace(/\n/g, ' ');
  });

const MUTATIONS = [
  '"',
  '\\',
  ',',
  ':',
  '}',
  '{',
  ']',
  '[',
  ' ',
  '\t',
  '\u0001',
  'x',
  'X',
  '0',
  'g',
  '-',
  '.',
  'e',
  'é',
];
const mutated = fc
  .tuple(
    headerObject,
    fc.nat(),
    fc.nat(),
    fc.constantFrom(...MUTATIONS),
    fc.constantFrom('insert', 'replace', 'delete', 'cut'),
  )
  .map(([line, at, len, c, how]) => {
    const i = at % (line.length + 1);
    if (how === 'insert') return line.slice(0, i) + c + line.slice(i);
    if (how === 'replace') return line.slice(0, i) + c + line.slice(i + 1);
    if (how === 'delete') return line.slice(0, i) + line.slice(i + 1 + (len % 3));
    return line.slice(0, i);
  });

describe('scanHeaderLine', () => {
  it('property: answers every well-formed header line, exactly as JSON.parse + parseHeaderJson', () => {
    fc.assert(
      fc.property(headerObject, (line) => {
        expect(agrees(line)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('property: on a mutated line it either agrees with the slow path or declines (never accepts what JSON.parse rejects)', () => {
    let answered = 0;
    fc.assert(
      fc.property(mutated, (line) => {
        if (agrees(line)) answered++;
      }),
      { numRuns: 3000 },
    );
    expect(answered).toBeGreaterThan(100); // harmless mutations (whitespace, extra fields) stay on the fast path
  });

  const base = {
    number: '0x10',
    hash: `0x${'ab'.repeat(32)}`,
    parentHash: `0x${'cd'.repeat(32)}`,
    logsBloom: `0x${'00'.repeat(256)}`,
  };
  it.each([
    ['an escape in a key', JSON.stringify(base).replace('"hash"', '"h\\u0061sh"')],
    ['an escape in an ignored string', JSON.stringify({ ...base, extraData: 'a\\"b' })],
    [
      'a repeated field (JSON.parse keeps the last)',
      JSON.stringify(base).replace('{', `{"hash":"0x${'11'.repeat(32)}",`),
    ],
    ['a fractional number', JSON.stringify({ ...base, number: 16 }).replace('16', '16.0')],
    ['an exponent number', JSON.stringify({ ...base, number: 16 }).replace('16', '1.6e1')],
    ['a 0X prefix', JSON.stringify({ ...base, hash: base.hash.replace('0x', '0X') })],
    ['a short hash', JSON.stringify({ ...base, hash: '0xabcd' })],
    [
      // the quote where a 64-digit hash would close, then a line that scans on: the digit check must catch it
      'a short hash with a quote where a full one ends',
      `{"number":16,"parentHash":"${base.parentHash}","logsBloom":"${base.logsBloom}","hash":"0x${'ab'.repeat(31)}",","x":1}`,
    ],
    ['a blank line', '  \t '],
    ['a BOM', `\ufeff${JSON.stringify(base)}`],
    [
      'nesting deeper than 64',
      JSON.stringify({ ...base, deep: JSON.parse(`${'['.repeat(70)}${']'.repeat(70)}`) }),
    ],
  ])('declines %s (the slow path decides)', (_name, line) => {
    expect(fast(line)).toBeUndefined();
  });

  it('reads both number forms and lowercases hex', () => {
    const line = JSON.stringify({ ...base, number: 255, hash: base.hash.toUpperCase().replace('0X', '0x') });
    expect({ ...fast(line) }).toEqual({ ...base, number: 255 });
    expect(fast(JSON.stringify(base))?.number).toBe(16);
  });
});
