import path from 'node:path';
import { type CliIo, runCli } from '../../src/cli/program.js';
import { expectOneError, type Result, SAMPLE } from './helpers.js';

/** Runs the CLI in-process (argument checks need no child process): exit code and output. */
async function cli(args: readonly string[]): Promise<Result> {
  const out = { stdout: '', stderr: '' };
  const io = {
    stdout: { write: (s: string) => (out.stdout += s) },
    stderr: { write: (s: string) => (out.stderr += s) },
  } as unknown as CliIo;
  const code = await runCli(args, io);
  return { code, ...out };
}

// The checks run before any db is opened, so a db path that does not exist is enough:
// a flag that was silently ignored would reach "no index at ..." (or run) instead.
const NO_DB = path.join(__dirname, 'no-such-db');
const QUERY = ['query', '--db', NO_DB, '--filter', '{}'];
const INDEX_FILE = ['index', '--db', NO_DB, '--ndjson', SAMPLE];

describe('a flag that cannot apply is a usage error (exit 2, one line)', () => {
  it.each([
    [
      'query --logs-ndjson without --logs',
      [...QUERY, '--logs-ndjson', 'x.ndjson'],
      /--logs-ndjson applies only with --logs/,
    ],
    [
      'query --rpc without --logs',
      [...QUERY, '--rpc', 'http://127.0.0.1:1'],
      /--rpc applies only with --logs/,
    ],
    [
      'query --rpc-retries without --logs',
      [...QUERY, '--rpc-retries', '3'],
      /--rpc-retries applies only with --logs/,
    ],
    [
      'query --rpc-timeout without --logs',
      [...QUERY, '--rpc-timeout', '100'],
      /--rpc-timeout applies only with --logs/,
    ],
    [
      'query --logs with both sources',
      [...QUERY, '--logs', '--rpc', 'http://127.0.0.1:1', '--logs-ndjson', 'x'],
      /exactly one of --rpc, --logs-ndjson/,
    ],
    ['query --logs with no source', [...QUERY, '--logs'], /exactly one of --rpc, --logs-ndjson/],
    [
      'query --logs-ndjson with --rpc-retries',
      [...QUERY, '--logs', '--logs-ndjson', 'x', '--rpc-retries', '1'],
      /--rpc-retries applies only with --rpc/,
    ],
    [
      'index from a file with --rpc-retries',
      [...INDEX_FILE, '--rpc-retries', '1'],
      /--rpc-retries applies only with --rpc/,
    ],
    [
      'index from a file with --rpc-timeout',
      [...INDEX_FILE, '--rpc-timeout', '100'],
      /--rpc-timeout applies only with --rpc/,
    ],
  ])('%s', async (_, args, pattern) => {
    expectOneError(await cli(args), pattern, 2);
  });
});

describe('a malformed number is a usage error, never a silent 0', () => {
  it.each([
    ['query --from ""', [...QUERY, '--from', '']],
    ['query --to ""', [...QUERY, '--to', '']],
    ['query --to " 12"', [...QUERY, '--to', ' 12']],
    ['query --from 1e3', [...QUERY, '--from', '1e3']],
    ['query --from -1', [...QUERY, '--from=-1']],
    ['index --to ""', [...INDEX_FILE, '--to', '']],
    ['index --section-size ""', [...INDEX_FILE, '--section-size', '']],
    ['index --section-size 0', [...INDEX_FILE, '--section-size', '0']],
    ['index --confirmations ""', [...INDEX_FILE, '--confirmations', '']],
    ['index --confirmations 1.5', [...INDEX_FILE, '--confirmations', '1.5']],
    ['index --rpc-retries ""', ['index', '--db', NO_DB, '--rpc', 'http://127.0.0.1:1', '--rpc-retries', '']],
    ['index --rpc-timeout 0', ['index', '--db', NO_DB, '--rpc', 'http://127.0.0.1:1', '--rpc-timeout', '0']],
  ])('%s', async (_, args) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: option '--[a-z-]+ <[a-z]+>' argument '.*' is invalid/);
  });
});
