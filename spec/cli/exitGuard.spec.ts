import { EventEmitter } from 'node:events';
import { EXIT_INTERNAL, type GuardedProcess, guardExit } from '../../src/cli/exitGuard.js';

/** A process double: events are emitted by hand, exit() is recorded. */
function fakeProcess() {
  const events = new EventEmitter();
  const exits: (number | undefined)[] = [];
  const proc = {
    exitCode: undefined as GuardedProcess['exitCode'],
    on: (event: string, listener: (...args: unknown[]) => void) => events.on(event, listener),
    exit: (code?: number) => {
      exits.push(code);
      return undefined as never;
    },
  } as GuardedProcess;
  let stderr = '';
  const err = { write: (s: string) => (stderr += s) };
  return { proc, events, exits, err, stderr: () => stderr };
}

const tick = () => new Promise((r) => setImmediate(r));

it('takes the exit code of the settled command; beforeExit after that is fine', async () => {
  const f = fakeProcess();
  guardExit(Promise.resolve(3), f.err, f.proc);
  await tick();
  f.events.emit('beforeExit');
  expect([f.proc.exitCode, f.stderr()]).toEqual([3, '']);
});

it('beforeExit while the command is pending: one line and EXIT_INTERNAL, even if it settles later', async () => {
  const f = fakeProcess();
  let resolve!: (code: number) => void;
  guardExit(new Promise<number>((r) => (resolve = r)), f.err, f.proc);
  f.events.emit('beforeExit');
  f.events.emit('beforeExit');
  resolve(0);
  await tick();
  expect(f.proc.exitCode).toBe(EXIT_INTERNAL);
  expect(f.stderr()).toBe('rx-bloombits: internal error: the command ended before its answer was complete\n');
});

it('a rejected command (runCli never should) is an internal error, not exit 0', async () => {
  const f = fakeProcess();
  guardExit(Promise.reject(new TypeError('bug')), f.err, f.proc);
  await tick();
  expect(f.proc.exitCode).toBe(EXIT_INTERNAL);
  expect(f.stderr()).toBe('rx-bloombits: internal error: TypeError: bug\n');
});

it('uncaught exceptions and unhandled rejections exit at once with one line', () => {
  const f = fakeProcess();
  guardExit(new Promise<number>(() => undefined), f.err, f.proc);
  f.events.emit('uncaughtException', new Error('boom'));
  f.events.emit('unhandledRejection', 'later');
  expect(f.exits).toEqual([EXIT_INTERNAL, EXIT_INTERNAL]);
  expect(f.stderr()).toBe('rx-bloombits: internal error: Error: boom\n');
});
