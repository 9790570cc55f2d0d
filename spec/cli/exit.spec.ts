import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { assertBuilt, CLI_TIMEOUT, cli, lines, smallIndex } from './helpers.js';

jest.setTimeout(CLI_TIMEOUT);

// The real dist/cli/main.js, with BloomIndex#match replaced by a stream that emits block 1 and then
// misbehaves (spec/cli/fixtures/misbehave.cjs): the CLI must never exit 0 on that partial answer.
const MISBEHAVE = path.join(__dirname, 'fixtures/misbehave.cjs');

let dir: string;
let db: string;
beforeAll(async () => {
  assertBuilt();
  dir = await mkdtemp(path.join(tmpdir(), 'rxbb-cli-exit-'));
  db = await smallIndex(path.join(dir, 'small'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const query = (mode: string) =>
  cli(['query', '--db', db, '--filter', '{}'], { preload: MISBEHAVE, env: { RXBB_MISBEHAVE: mode } });

it('a stream that stops without completing (the event loop empties): one line, exit 70', async () => {
  const r = await query('never-settles');
  expect(lines(r.stdout)).toEqual(['1']);
  expect(lines(r.stderr)).toEqual([
    'rx-bloombits: internal error: the command ended before its answer was complete',
  ]);
  expect(r.code).toBe(70);
});

it('an exception thrown outside the stream (a timer): one line, exit 70', async () => {
  const r = await query('throws-in-timer');
  expect(lines(r.stderr)).toEqual(['rx-bloombits: internal error: Error: boom in a timer']);
  expect(r.code).toBe(70);
});

it('an unhandled rejection: one line, exit 70', async () => {
  const r = await query('unhandled-rejection');
  expect(lines(r.stderr)).toEqual([
    'rx-bloombits: internal error: unhandled rejection: Error: a rejection nobody handles',
  ]);
  expect(r.code).toBe(70);
});

it('control: without the double the same query completes and exits 0', async () => {
  const plain = await cli(['query', '--db', db, '--filter', '{}', '--to', '3', '--quiet']);
  expect(plain).toEqual({ code: 0, stdout: '0\n1\n2\n3\n', stderr: '' });
});
