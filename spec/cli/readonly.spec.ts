import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MemoryLevel } from 'memory-level';
import { CliError, readOnly } from '../../src/cli/openDb.js';
import { ADDRESSES } from '../indexer/helpers.js';
import {
  assertBuilt,
  CLI_TIMEOUT,
  cli,
  dump,
  expectOneError,
  lines,
  openLevel,
  smallIndex,
} from './helpers.js';

jest.setTimeout(CLI_TIMEOUT);

let dir: string;
beforeAll(async () => {
  assertBuilt();
  dir = await mkdtemp(path.join(tmpdir(), 'rxbb-cli-ro-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('read commands never write into the index', () => {
  it('info, query and verify leave every key and value as they were', async () => {
    const at = await smallIndex(path.join(dir, 'small'));
    const before = await dump(at);
    const filter = JSON.stringify({ address: ADDRESSES[0] });
    for (const args of [
      ['info', '--db', at],
      ['info', '--db', at, '--json'],
      ['query', '--db', at, '--filter', filter],
      ['query', '--db', at, '--filter', '{}', '--from', '250'],
      ['verify', '--db', at],
    ]) {
      const r = await cli(args);
      // query's only stderr line is its summary
      const stderr =
        args[0] === 'query' ? expect.stringMatching(/^query: \d+ candidate blocks?, [\d.]+ s\n$/) : '';
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr });
    }
    expect(await dump(at)).toEqual(before);
  });

  it('info on an empty LevelDB (no index written yet) does not write one', async () => {
    const at = path.join(dir, 'empty-db');
    await (await openLevel(at)).close();
    await cli(['info', '--db', at]);
    await cli(['query', '--db', at, '--filter', '{}']);
    expect(await dump(at)).toEqual([]);
  });

  it('a directory that holds no db is left untouched', async () => {
    const at = path.join(dir, 'empty-dir');
    await mkdir(at);
    expectOneError(await cli(['info', '--db', at]), /no index at/);
    expectOneError(await cli(['query', '--db', at, '--filter', '{}']), /no index at/);
    expect(await readdir(at)).toEqual([]);
  });
});

describe('verify', () => {
  it('reports a damaged vector and exits 1', async () => {
    const at = await smallIndex(path.join(dir, 'damaged'));
    const db = await openLevel(at);
    let damaged = 0;
    for await (const [key, value] of db.iterator({
      gte: new Uint8Array([0x42]),
      lt: new Uint8Array([0x43]),
    })) {
      if (value.length === 0) continue;
      const flipped = Uint8Array.from(value);
      flipped[flipped.length - 1]! ^= 0x01;
      await db.put(key, flipped);
      if (++damaged === 2) break;
    }
    await db.close();
    const r = await cli(['verify', '--db', at]);
    expect(r.code).toBe(1);
    expect(lines(r.stdout)[0]).toMatch(/^4 sections of 64 blocks: .* [1-9]\d* problems$/);
    expect(
      lines(r.stdout)
        .slice(1)
        .every((l) => /^problem: /.test(l)),
    ).toBe(true);
    expect(lines(r.stderr)).toEqual([
      expect.stringMatching(/^rx-bloombits: [1-9]\d* problems found in the index at /),
    ]);
  });

  it('--json prints the report', async () => {
    const at = await smallIndex(path.join(dir, 'json'));
    const r = await cli(['verify', '--db', at, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ sectionSize: 64, sections: 4, checked: 4, problems: [] });
  });
});

describe('readOnly(db)', () => {
  const make = async () => {
    const db = new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: 'view', valueEncoding: 'view' });
    await db.put(new Uint8Array([5]), new Uint8Array([1]));
    return { db, ro: readOnly(db, 'mem') };
  };

  it('reads pass through', async () => {
    const { ro } = await make();
    expect(await ro.get(new Uint8Array([5]))).toEqual(new Uint8Array([1]));
    expect(await ro.keys().all()).toEqual([new Uint8Array([5])]);
  });

  it('put, del, batch and sublevel are refused with a CliError', async () => {
    const { db, ro } = await make();
    await expect(ro.put(new Uint8Array([6]), new Uint8Array([1]))).rejects.toThrow(CliError);
    await expect(ro.del(new Uint8Array([5]))).rejects.toThrow(CliError);
    expect(() => ro.batch([])).toThrow(CliError);
    expect(() => ro.sublevel('x')).toThrow(CliError);
    expect(await db.keys().all()).toEqual([new Uint8Array([5])]);
  });

  it('clear is a no-op over an empty range and refused over a range that holds a key', async () => {
    const { db, ro } = await make();
    await ro.clear({ gte: new Uint8Array([6]) });
    await expect(ro.clear({ gte: new Uint8Array([5]) })).rejects.toThrow(CliError);
    await expect(ro.clear()).rejects.toThrow(CliError);
    expect(await db.keys().all()).toEqual([new Uint8Array([5])]);
  });
});
