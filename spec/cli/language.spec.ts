import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Log } from '../../src/types/chain.js';
import { assertBuilt, CLI_TIMEOUT, cli, lines, ROOT, SAMPLE, SAMPLE_LOGS } from './helpers.js';

jest.setTimeout(CLI_TIMEOUT);

const TRANSFER_SIG = 'Transfer(address indexed from, address indexed to, uint256 value)';
const TRANSFER = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef';
const meta = JSON.parse(readFileSync(path.join(ROOT, 'examples/data/sample-meta.json'), 'utf8')) as {
  demoFilter: { address: string; topics: (string | null)[] };
};
const TOKEN = meta.demoFilter.address;
const USER_TOPIC = meta.demoFilter.topics[2]!;
const USER = `0x${USER_TOPIC.slice(26)}`;
const allLogs = (): Log[] =>
  lines(gunzipSync(readFileSync(path.join(ROOT, SAMPLE_LOGS))).toString('utf8')).map(
    (l) => JSON.parse(l) as Log,
  );

let dir: string;
let db: string;
beforeAll(async () => {
  assertBuilt();
  dir = await mkdtemp(path.join(tmpdir(), 'rxbb-cli-lang-'));
  db = path.join(dir, 'sample');
  const r = await cli(['index', '--db', db, '--ndjson', SAMPLE, '--json']);
  expect(r.code).toBe(0);
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('--version prints the version of package.json', async () => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const r = await cli(['--version']);
  expect(r.code).toBe(0);
  expect(r.stdout).toBe(`${pkg.version}\n`);
});

it('--event sets topic0, --topic2 pads an address, and --logs --json decodes each log (oracle: the log file)', async () => {
  const r = await cli([
    'query',
    '--db',
    db,
    '--event',
    TRANSFER_SIG,
    '--address',
    TOKEN,
    '--topic2',
    USER,
    '--logs',
    '--logs-ndjson',
    SAMPLE_LOGS,
    '--json',
  ]);
  expect(r.code).toBe(0);
  const oracle = allLogs().filter(
    (l) => l.address === TOKEN && l.topics[0] === TRANSFER && l.topics[2] === USER_TOPIC,
  );
  expect(oracle.length).toBeGreaterThan(5);
  const got = lines(r.stdout).map((l) => JSON.parse(l));
  expect(got.map(({ eventName, args, ...log }) => log)).toEqual(oracle);
  for (const [i, log] of got.entries()) {
    expect(log.eventName).toBe('Transfer');
    expect(log.args.from.toLowerCase()).toBe(`0x${oracle[i]!.topics[1]!.slice(26)}`);
    expect(log.args.to.toLowerCase()).toBe(USER);
    expect(log.args.value).toBe(BigInt(oracle[i]!.data).toString());
  }
  expect(r.stderr).toMatch(new RegExp(`^query: \\d+ candidate blocks, ${oracle.length} logs, `));
});

it('flags say what --filter says: OR lists, null, repeated --address', async () => {
  const other = '0x8f78e4ceb7ae12944e1f6425c727fd1b7aa24a2d';
  const byJson = await cli([
    'query',
    '--db',
    db,
    '--filter',
    JSON.stringify({ address: [TOKEN, other], topics: [TRANSFER, null, [USER_TOPIC, TRANSFER]] }),
    '-q',
  ]);
  const byFlags = await cli([
    'query',
    '--db',
    db,
    '--address',
    TOKEN,
    '--address',
    other,
    '--topic0',
    TRANSFER,
    '--topic1',
    'null',
    '--topic2',
    `${USER},${TRANSFER}`,
    '-q',
  ]);
  expect(byJson.code).toBe(0);
  expect(byFlags).toEqual(byJson);
  expect(lines(byJson.stdout).length).toBeGreaterThan(10);
  // a comma list of addresses is the same as repeating the flag
  const comma = await cli([
    'query',
    '--db',
    db,
    '--address',
    `${TOKEN},${other}`,
    '--topic0',
    TRANSFER,
    '-q',
  ]);
  const json = await cli([
    'query',
    '--db',
    db,
    '--filter',
    JSON.stringify({ address: [TOKEN, other], topics: [TRANSFER] }),
    '-q',
  ]);
  expect(comma).toEqual(json);
});

it.each([
  [['--event', TRANSFER_SIG, '--topic0', TRANSFER], /--event and --topic0/],
  [
    ['--filter', JSON.stringify({ topics: [TRANSFER] }), '--event', TRANSFER_SIG],
    /--event and topic 0 of --filter/,
  ],
  [['--topic1', '0x1234'], /expected 'null', 32-byte topics or 20-byte addresses/],
  [['--address', '0x12'], /expected 20-byte hex addresses/],
  [['--event', 'Transfer(address from'], /not an event signature/],
  [['--event', 'function f()'], /not an event signature/],
  [['--follow', '--logs-ndjson', SAMPLE_LOGS], /--follow needs --rpc/],
  [['--poll-interval', '5'], /--poll-interval applies only with --follow/],
])('usage error for %j', async (args, pattern) => {
  const r = await cli(['query', '--db', db, ...args]);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(pattern);
});

it('index --ndjson without a TTY reports how much of the file is read', async () => {
  const r = await cli(['index', '--db', path.join(dir, 'progress'), '--ndjson', SAMPLE]);
  expect(r.code).toBe(0);
  const progress = lines(r.stderr);
  expect(progress.length).toBeGreaterThan(0);
  for (const line of progress)
    expect(line).toMatch(/^indexed to block -?\d+ \((\d|[1-9]\d|100)% of the file\): /);
});
