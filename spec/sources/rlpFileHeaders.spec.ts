import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { RLP } from '@ethereumjs/rlp';
import { keccak_256 } from '@noble/hashes/sha3';
import { lastValueFrom, take, toArray } from 'rxjs';
import { SourceError } from '../../src/errors.js';
import { rlpFileHeaders } from '../../src/sources/rlpFileHeaders.js';
import { readRlpItems } from '../../src/sources/rlpItems.js';
import { bytesToHex } from '../../src/types/hex.js';

const FIXTURES = join(__dirname, '../fixtures/mainnet');
const RLP_FILE = join(FIXTURES, 'mainnet-blocks.rlp');
const expected: { number: number; hash: string; parentHash: string; logsBloom: string; fields: number }[] =
  JSON.parse(readFileSync(join(FIXTURES, 'mainnet-blocks.json'), 'utf8'));

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rlp-headers-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tempFile(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

const readAll = (path: string) => lastValueFrom(rlpFileHeaders(path).pipe(toArray()));

/** A synthetic header of `fields` fields with a recognisable number, bloom and parent. */
function header(number: number, fields = 16): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < fields; i++) out.push(new Uint8Array([i + 1]));
  out[0] = new Uint8Array(32).fill(number % 256);
  out[6] = new Uint8Array(256).fill(0x0f);
  out[8] = number === 0 ? new Uint8Array(0) : (RLP.decode(RLP.encode(number)) as Uint8Array);
  return out;
}

describe('rlpFileHeaders on the mainnet export file', () => {
  it('reads every block: number, hash (keccak of the header RLP), parentHash, logsBloom', async () => {
    const headers = await readAll(RLP_FILE);
    expect(headers).toEqual(
      expected.map(({ number, hash, parentHash, logsBloom }) => ({ number, hash, parentHash, logsBloom })),
    );
  });

  it('covers every header variant: 15, 16, 17, 20 and 21 fields', () => {
    expect([...new Set(expected.map((b) => b.fields))].sort((a, b) => a - b)).toEqual([15, 16, 17, 20, 21]);
  });

  it('gives the same items when the file arrives one byte at a time', async () => {
    const bytes = readFileSync(RLP_FILE);
    const whole: number[] = [];
    for await (const item of readRlpItems(Readable.from([bytes]))) whole.push(item.offset);
    const byteWise: string[] = [];
    const chunks = Array.from(bytes, (b) => Buffer.from([b]));
    for await (const item of readRlpItems(Readable.from(chunks))) byteWise.push(bytesToHex(item.bytes));
    expect(whole).toHaveLength(28);
    expect(byteWise.map((h) => (h.length - 2) / 2)).toEqual(
      whole.map((offset, i) => (whole[i + 1] ?? bytes.length) - offset),
    );
  });

  it('take(n) unsubscribes early and ends cleanly', async () => {
    const headers = await lastValueFrom(rlpFileHeaders(RLP_FILE).pipe(take(3), toArray()));
    expect(headers.map((h) => h.number)).toEqual(expected.slice(0, 3).map((b) => b.number));
  });
});

describe('rlpFileHeaders on synthetic files', () => {
  it('streams blocks larger than a read chunk, and withdrawals lists', async () => {
    const big = new Uint8Array(300_000).fill(7);
    const blocks = [
      RLP.encode([header(0, 15), [], []]),
      RLP.encode([header(1, 16), [big, big], []]),
      RLP.encode([header(2, 17), [big], [], []]),
      RLP.encode([header(3, 21), [], [], []]),
    ];
    const path = tempFile('big.rlp', Buffer.concat(blocks));
    const headers = await readAll(path);
    expect(headers.map((h) => h.number)).toEqual([0, 1, 2, 3]);
    expect(headers[1]!.hash).toBe(bytesToHex(keccak_256(RLP.encode(header(1, 16)))));
    expect(headers[3]!.parentHash).toBe(`0x${'03'.repeat(32)}`);
    expect(headers[2]!.logsBloom).toBe(`0x${'0f'.repeat(256)}`);
  });

  it('reads an empty file as no headers', async () => {
    expect(await readAll(tempFile('empty.rlp', new Uint8Array(0)))).toEqual([]);
  });

  it.each([
    ['a truncated file', () => readFileSync(RLP_FILE).subarray(0, -10), /truncated/],
    [
      'a top-level string',
      () => Buffer.concat([readFileSync(RLP_FILE), Buffer.from([0x83, 1, 2, 3])]),
      /not a list/,
    ],
    ['a header with too few fields', () => RLP.encode([header(5).slice(0, 14), [], []]), /14 fields/],
    [
      'a short logsBloom',
      () => RLP.encode([header(5).map((f, i) => (i === 6 ? f.subarray(1) : f)), [], []]),
      /logsBloom/,
    ],
    ['a header that is not a list', () => RLP.encode([new Uint8Array(40), [], []]), /header list/],
    ['a non-canonical length', () => Buffer.from([0xf8, 0x02, 0xc0, 0xc0]), /short length/],
    ['a nested field', () => RLP.encode([header(5).map((f, i) => (i === 8 ? [f] : f)), [], []]), /number/],
  ])('fails with SourceError on %s', async (name, bytes, message) => {
    const path = tempFile(`${name.replace(/\W/g, '_')}.rlp`, bytes());
    const err = await readAll(path).catch((e) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect(err.message).toMatch(message);
    expect(err.message).toContain(path);
  });

  it('emits the good blocks before the corrupt one', async () => {
    const good = readFileSync(RLP_FILE);
    const path = tempFile('tail.rlp', Buffer.concat([good, Buffer.from([0xc5, 0x01])]));
    const seen: number[] = [];
    const err = await new Promise((resolve) =>
      rlpFileHeaders(path).subscribe({ next: (h) => seen.push(h.number), error: resolve }),
    );
    expect(err).toBeInstanceOf(SourceError);
    expect((err as Error).message).toMatch(new RegExp(`byte ${good.length}`));
    expect(seen).toEqual(expected.map((b) => b.number));
  });

  it('fails with SourceError on a missing file', async () => {
    const err = await readAll(join(dir, 'nope.rlp')).catch((e) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect(err.cause).toMatchObject({ code: 'ENOENT' });
  });
});
