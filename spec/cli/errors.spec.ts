import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ClassicLevel } from 'classic-level';
import { COUNT_KEY } from '../../src/store/index.js';
import { ADDRESSES } from '../indexer/helpers.js';
import { assertBuilt, CLI_TIMEOUT, cli, expectOneError, openLevel, smallIndex } from './helpers.js';

jest.setTimeout(CLI_TIMEOUT);

let dir: string;
const held: ClassicLevel<Uint8Array, Uint8Array>[] = [];

beforeAll(async () => {
  assertBuilt();
  dir = await mkdtemp(path.join(tmpdir(), 'rxbb-cli-errors-'));
});
afterAll(async () => {
  await Promise.all(held.splice(0).map((db) => db.close()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** A small index whose db `corrupt` then damages. */
async function corrupted(name: string, corrupt: (db: ClassicLevel<Uint8Array, Uint8Array>) => Promise<void>) {
  const at = await smallIndex(path.join(dir, name));
  const db = await openLevel(at);
  await corrupt(db);
  await db.close();
  return at;
}

describe('usage errors (commander): non-zero, a message on stderr, nothing on stdout', () => {
  it.each([
    ['no command', [], /^Usage: rx-bloombits/],
    ['an unknown command', ['frobnicate'], /^error: unknown command 'frobnicate'/],
    ['--filter that is not JSON', ['query', '--db', 'x', '--filter', '{not json'], /^error: .*JSON/],
    ['--filter that is an array', ['query', '--db', 'x', '--filter', '[]'], /^error: .*JSON object/],
    ['an unknown option', ['info', '--db', 'x', '--frobnicate'], /^error: unknown option/],
    ['an extra argument', ['info', '--db', 'x', 'extra'], /^error: too many arguments/],
  ])('%s', async (_, args, pattern) => {
    const r = await cli(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(pattern);
  });
});

describe('failures print one line and exit non-zero', () => {
  it('a db that does not exist', async () => {
    expectOneError(
      await cli(['query', '--db', path.join(dir, 'does-not-exist'), '--filter', '{}']),
      /no index at/,
    );
  });

  it('a bad address in the filter', async () => {
    const small = await smallIndex(path.join(dir, 'bad-address'));
    expectOneError(await cli(['query', '--db', small, '--filter', '{"address":"0x1234"}']), /address/i);
  });

  it('a misspelt filter key (it used to match every block)', async () => {
    const small = await smallIndex(path.join(dir, 'misspelt'));
    expectOneError(
      await cli(['query', '--db', small, '--filter', `{"adress":"${ADDRESSES[0]}"}`]),
      /unknown filter key "adress"/,
    );
  });

  it('blockHash in the filter is not supported', async () => {
    const small = await smallIndex(path.join(dir, 'block-hash'));
    expectOneError(
      await cli(['query', '--db', small, '--filter', `{"blockHash":"0x${'00'.repeat(32)}"}`]),
      /blockHash is not supported/,
    );
  });

  it('a reversed range', async () => {
    const small = await smallIndex(path.join(dir, 'reversed'));
    expectOneError(
      await cli(['query', '--db', small, '--filter', '{}', '--from', '20', '--to', '10']),
      /revers|20|10/,
    );
  });

  it('a db another process holds', async () => {
    const locked = await smallIndex(path.join(dir, 'locked'));
    held.push(await openLevel(locked));
    expectOneError(await cli(['info', '--db', locked]), /locked/);
  });

  it('a corrupt section count', async () => {
    const at = await corrupted('corrupt-count', (db) => db.put(COUNT_KEY, new Uint8Array([1, 2, 3])));
    expectOneError(
      await cli(['query', '--db', at, '--filter', JSON.stringify({ address: ADDRESSES[0] })]),
      /count|corrupt|bytes/i,
    );
  });

  it('a corrupt bit vector', async () => {
    const at = await corrupted('corrupt-vector', async (db) => {
      for await (const key of db.keys({ gte: new Uint8Array([0x42]), lt: new Uint8Array([0x43]) }))
        await db.put(key, new Uint8Array(40).fill(0xff));
    });
    expectOneError(
      await cli(['query', '--db', at, '--filter', JSON.stringify({ address: ADDRESSES[0] }), '--to', '100']),
      /vector|decompress|exceeded|corrupt|bit|checksum/i,
    );
  });

  it('an unreachable JSON-RPC endpoint', async () => {
    const port = await closedPort();
    const r = await cli([
      'index',
      '--db',
      path.join(dir, 'unreachable'),
      '--rpc',
      `http://127.0.0.1:${port}`,
      '--rpc-retries',
      '0',
    ]);
    expectOneError(r, new RegExp(`127\\.0\\.0\\.1:${port}`));
  });

  it('an RLP export that does not start at the next block', async () => {
    const r = await cli([
      'index',
      '--db',
      path.join(dir, 'rlp'),
      '--rlp',
      'spec/fixtures/mainnet/mainnet-blocks.rlp',
    ]);
    expectOneError(r, /skip|does not build|block/);
  });

  it('two header sources', async () => {
    expectOneError(
      await cli(['index', '--db', path.join(dir, 'two'), '--rlp', 'a', '--ndjson', 'b']),
      /exactly one of/,
      2,
    );
  });
});
