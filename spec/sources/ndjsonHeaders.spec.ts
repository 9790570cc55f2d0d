import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { lastValueFrom, take, toArray } from 'rxjs';
import { SourceError } from '../../src/errors.js';
import { ndjsonHeaders } from '../../src/sources/ndjsonHeaders.js';

const GZ = join(__dirname, '../fixtures/mainnet/mainnet-headers.ndjson.gz');
const raw: Record<string, unknown>[] = gunzipSync(readFileSync(GZ))
  .toString('utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l));
const expected = raw.map(({ number, hash, parentHash, logsBloom }) => ({
  number,
  hash,
  parentHash,
  logsBloom,
}));

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ndjson-headers-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const readAll = (path: string) => lastValueFrom(ndjsonHeaders(path).pipe(toArray()));

describe('ndjsonHeaders', () => {
  it('reads the gzipped mainnet headers', async () => {
    expect(raw).toHaveLength(28);
    expect(await readAll(GZ)).toEqual(expected);
  });

  it('reads a plain file with hex numbers, mixed case, CRLF and blank lines', async () => {
    const lines = raw.map((b, i) =>
      JSON.stringify({
        ...b,
        number: i % 2 ? `0x${(b.number as number).toString(16)}` : b.number,
        hash: i % 3 ? b.hash : (b.hash as string).toUpperCase().replace('0X', '0x'),
      }),
    );
    const path = join(dir, 'plain.ndjson');
    writeFileSync(path, `\n${lines.slice(0, 10).join('\r\n')}\n\n   \n${lines.slice(10).join('\n')}`);
    expect(await readAll(path)).toEqual(expected);
  });

  it('detects gzip by its magic bytes without a .gz name', async () => {
    const path = join(dir, 'headers.bin');
    writeFileSync(path, readFileSync(GZ));
    expect(await readAll(path)).toEqual(expected);
  });

  it.each([
    ['invalid JSON', '{"number": 1,', /:3: .*JSON/],
    ['a missing logsBloom', JSON.stringify({ ...raw[0], logsBloom: undefined }), /:3: bad logsBloom/],
    ['a negative number', JSON.stringify({ ...raw[0], number: -1 }), /:3: number out of range/],
    ['a non-object', '[1, 2]', /:3: block is not an object/],
  ])('fails with a SourceError naming the line on %s', async (name, bad, message) => {
    const path = join(dir, `${name.replace(/\W/g, '_')}.ndjson`);
    writeFileSync(path, [JSON.stringify(raw[0]), '', bad, JSON.stringify(raw[1])].join('\n'));
    const seen: number[] = [];
    const err = await new Promise((resolve) =>
      ndjsonHeaders(path).subscribe({ next: (h) => seen.push(h.number), error: resolve }),
    );
    expect(err).toBeInstanceOf(SourceError);
    expect((err as Error).message).toMatch(message);
    expect(seen).toEqual([raw[0]!.number]);
  });

  it('fails with SourceError on a corrupt gzip file and on a missing file', async () => {
    const corrupt = join(dir, 'corrupt.ndjson.gz');
    const gz = gzipSync(Buffer.from(raw.map((b) => JSON.stringify(b)).join('\n')));
    writeFileSync(corrupt, gz.subarray(0, gz.length >> 1));
    const e1 = await readAll(corrupt).catch((e) => e);
    expect(e1).toBeInstanceOf(SourceError);
    const e2 = await readAll(join(dir, 'missing.ndjson')).catch((e) => e);
    expect(e2).toBeInstanceOf(SourceError);
    expect(e2.cause).toMatchObject({ code: 'ENOENT' });
  });

  it('take(n) unsubscribes early and ends cleanly', async () => {
    const first = await lastValueFrom(ndjsonHeaders(GZ).pipe(take(2), toArray()));
    expect(first).toEqual(expected.slice(0, 2));
  });
});
