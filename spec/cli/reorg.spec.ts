import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BlockHeader } from '../../src/types/chain.js';
import { makeChain } from '../indexer/helpers.js';
import { assertBuilt, CLI_TIMEOUT, cli, dump, expectOneError, lines } from './helpers.js';

jest.setTimeout(CLI_TIMEOUT);

let dir: string;
beforeAll(async () => {
  assertBuilt();
  dir = await mkdtemp(path.join(tmpdir(), 'rxbb-cli-reorg-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Writes headers as an NDJSON file of JSON-RPC block objects. */
async function ndjson(name: string, headers: readonly BlockHeader[]): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(
    file,
    headers.map((h) => `${JSON.stringify({ ...h, number: `0x${h.number.toString(16)}` })}\n`).join(''),
  );
  return file;
}

it('a reorg below committed sections needs --allow-deep-reorg; without it nothing changes', async () => {
  const main = makeChain(300, 5);
  const fork = makeChain(320, 6, main, 50); // shares blocks 0..49, then a different branch
  const db = path.join(dir, 'db');
  const opts = ['--section-size', '64', '--confirmations', '8'];
  const first = await cli(['index', '--db', db, '--ndjson', await ndjson('main.ndjson', main), ...opts]);
  expect(first.code).toBe(0);
  const forkFile = await ndjson('fork.ndjson', fork);

  const before = await dump(db);
  expectOneError(await cli(['index', '--db', db, '--ndjson', forkFile, ...opts]), /--allow-deep-reorg/);
  expect(await dump(db)).toEqual(before);

  const allowed = await cli(['index', '--db', db, '--ndjson', forkFile, ...opts, '--allow-deep-reorg']);
  expect(allowed.code).toBe(0);
  expect(lines(allowed.stdout).at(-1)).toMatch(
    /^indexed to block 319: 4 sections committed, 64 blocks in the tail/,
  );
  // The forked chain's blocks are what the index answers now: every block matches an empty filter.
  const all = await cli(['query', '--db', db, '--filter', '{}', '--from', '60', '--to', '70']);
  expect(lines(all.stdout).map(Number)).toEqual(Array.from({ length: 11 }, (_, i) => 60 + i));
});
