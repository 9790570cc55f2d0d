import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EXIT_BROKEN_PIPE, EXIT_INTERNAL, exitOnBrokenPipe } from '../../src/cli/exitGuard.js';
import { assertBuilt, CLI_TIMEOUT, cli, MAIN, ROOT, SAMPLE, SAMPLE_LOGS } from './helpers.js';

jest.setTimeout(CLI_TIMEOUT);

function fakeStreams() {
  const stdout = new EventEmitter();
  const exits: (number | undefined)[] = [];
  let stderr = '';
  exitOnBrokenPipe(
    stdout,
    { write: (s: string) => (stderr += s) },
    {
      exit: (code?: number) => {
        exits.push(code);
        return undefined as never;
      },
    },
  );
  const fail = (code: string) => stdout.emit('error', Object.assign(new Error(`write ${code}`), { code }));
  return { fail, exits, stderr: () => stderr };
}

it('EPIPE on stdout: exit 141 at once, nothing on stderr', () => {
  const f = fakeStreams();
  f.fail('EPIPE');
  expect([f.exits, f.stderr()]).toEqual([[EXIT_BROKEN_PIPE], '']);
});

it('another stdout failure: one internal error line, exit 70', () => {
  const f = fakeStreams();
  f.fail('ENOSPC');
  expect(f.exits).toEqual([EXIT_INTERNAL]);
  expect(f.stderr()).toMatch(/^rx-bloombits: internal error: cannot write the output: .*ENOSPC\n$/);
});

describe('query … | head (a child process whose reader goes away)', () => {
  let dir: string;
  beforeAll(async () => {
    assertBuilt();
    dir = await mkdtemp(path.join(tmpdir(), 'rxbb-cli-epipe-'));
    const r = await cli(['index', '--db', path.join(dir, 'db'), '--ndjson', SAMPLE]);
    expect(r.code).toBe(0);
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('stops quietly with 141 when stdout closes after the first chunk (MBs of logs to write)', async () => {
    const args = [
      'query',
      '--db',
      path.join(dir, 'db'),
      '--logs',
      '--logs-ndjson',
      SAMPLE_LOGS,
      '--json',
      '-q',
    ];
    const child = spawn(process.execPath, [MAIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    // Like `head -c 1`: read one chunk, then close the reading end of the pipe.
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect({ code, stderr }).toEqual({ code: EXIT_BROKEN_PIPE, stderr: '' });
  });
});
