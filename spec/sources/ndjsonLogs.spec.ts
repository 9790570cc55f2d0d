import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { firstValueFrom, lastValueFrom } from 'rxjs';
import { SourceError } from '../../src/errors.js';
import { ndjsonLogs } from '../../src/sources/ndjsonLogs.js';
import type { Hex } from '../../src/types/hex.js';

const GZ = join(__dirname, '../fixtures/mainnet/mainnet-logs.ndjson.gz');
interface RawLog {
  blockNumber: number;
  blockHash: string;
  logIndex: number;
  transactionIndex: number;
  transactionHash: string;
  address: string;
  topics: string[];
  data: string;
  removed: boolean;
}
const lines = gunzipSync(readFileSync(GZ))
  .toString('utf8')
  .split('\n')
  .filter((l) => l.trim() !== '');
const raw: RawLog[] = lines.map((l) => JSON.parse(l));
const blocks = [...new Set(raw.map((l) => l.blockNumber))];
const hashOf = new Map(raw.map((l) => [l.blockNumber, l.blockHash as Hex]));
const hex = (n: number) => `0x${n.toString(16)}`;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ndjson-logs-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ndjsonLogs', () => {
  const source = ndjsonLogs(GZ);

  it.each(blocks)('gives all logs of block %i in log-index order, as JSON-RPC logs', async (number) => {
    const logs = await firstValueFrom(source({ number }));
    const mine = raw.filter((l) => l.blockNumber === number).sort((a, b) => a.logIndex - b.logIndex);
    expect(logs).toEqual(
      mine.map((l) => ({
        ...l,
        blockNumber: hex(l.blockNumber),
        logIndex: hex(l.logIndex),
        transactionIndex: hex(l.transactionIndex),
      })),
    );
  });

  it('has the 14 blocks and 14,866 logs of the fixture', () => {
    expect(blocks).toHaveLength(14);
    expect(raw).toHaveLength(14_866);
  });

  it('gives [] for a block without logs', async () => {
    expect(await firstValueFrom(source({ number: 1 }))).toEqual([]);
  });

  it('checks the block hash when given', async () => {
    const number = blocks[0]!;
    const logs = await firstValueFrom(
      source({ number, hash: hashOf.get(number)!.toUpperCase().replace('0X', '0x') as Hex }),
    );
    expect(logs.length).toBeGreaterThan(0);
    const err = await firstValueFrom(source({ number, hash: `0x${'ab'.repeat(32)}` })).catch((e) => e);
    expect(err).toBeInstanceOf(SourceError);
  });

  it('loads the file once, lazily, and shares it between calls', async () => {
    const path = join(dir, 'once.ndjson.gz');
    const lazy = ndjsonLogs(path); // the file does not exist yet: nothing is read before first use
    copyFileSync(GZ, path);
    const [a, b] = await Promise.all([
      firstValueFrom(lazy({ number: blocks[0]! })),
      firstValueFrom(lazy({ number: blocks[1]! })),
    ]);
    rmSync(path);
    const c = await firstValueFrom(lazy({ number: blocks[2]! })); // served from memory
    expect([a.length, b.length, c.length]).toEqual(
      blocks.slice(0, 3).map((n) => raw.filter((l) => l.blockNumber === n).length),
    );
  });

  it('an unsubscribe before the load finishes stops it; the next call loads again', async () => {
    const fresh = ndjsonLogs(GZ);
    fresh({ number: blocks[0]! }).subscribe().unsubscribe();
    const logs = await firstValueFrom(fresh({ number: blocks[0]! }));
    expect(logs).toHaveLength(raw.filter((l) => l.blockNumber === blocks[0]).length);
  });

  it('fails with a SourceError naming the line, and retries the load on the next call', async () => {
    const path = join(dir, 'bad.ndjson');
    writeFileSync(path, `${lines[0]}\n${lines[1]!.replace('"topics":[', '"topics":["0x12",')}\n`);
    const logs = ndjsonLogs(path);
    const err = await lastValueFrom(logs({ number: raw[0]!.blockNumber })).catch((e) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect(err.message).toMatch(/bad\.ndjson:2: bad log topics\[0\]/);
    writeFileSync(path, `${lines[0]}\n\n${lines[1]}\n`);
    expect(await lastValueFrom(logs({ number: raw[0]!.blockNumber }))).toHaveLength(2);
  });

  it('rejects a block whose logs carry two different hashes when no hash is given', async () => {
    const path = join(dir, 'fork.ndjson');
    const other = { ...raw[1]!, blockHash: `0x${'cd'.repeat(32)}` };
    writeFileSync(path, `${lines[0]}\n${JSON.stringify(other)}\n`);
    const logs = ndjsonLogs(path);
    await expect(lastValueFrom(logs({ number: raw[0]!.blockNumber }))).rejects.toThrow(SourceError);
    const pinned = await lastValueFrom(logs({ number: raw[0]!.blockNumber, hash: other.blockHash as Hex }));
    expect(pinned.map((l) => l.blockHash)).toEqual([other.blockHash]);
  });
});
