/** Exit code of an internal failure (sysexits EX_SOFTWARE): the answer printed, if any, is incomplete. */
export const EXIT_INTERNAL = 70;

/** Exit code when the reader of stdout went away (128 + SIGPIPE, as `cat … | head` gives). */
export const EXIT_BROKEN_PIPE = 141;

/** What {@link guardExit} needs of the process (the real one in main, a stub in tests). */
export interface GuardedProcess {
  exitCode?: number | string | null | undefined;
  on(event: 'beforeExit', listener: () => void): unknown;
  on(event: 'uncaughtException', listener: (error: unknown) => void): unknown;
  on(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown;
  exit(code?: number): never;
}

/**
 * Sets the exit code from `command` (the CLI's result), and makes sure the process
 * can only exit 0 after `command` resolved to 0:
 * - the event loop empties while `command` is pending (a stream stopped without
 *   completing, a promise nobody will settle): one line on stderr, exit {@link EXIT_INTERNAL};
 * - an uncaught exception or unhandled rejection anywhere: one line, exit at once with
 *   {@link EXIT_INTERNAL} (the state is unknown; waiting could print a partial answer as complete);
 * - `command` rejects (runCli never should): one line, {@link EXIT_INTERNAL}.
 */
export function guardExit(
  command: Promise<number>,
  stderr: { write(s: string): unknown },
  proc: GuardedProcess = process,
): void {
  let settled = false;
  let failed = false;
  const fail = (message: string): void => {
    if (failed) return;
    failed = true;
    stderr.write(`rx-bloombits: internal error: ${message}\n`);
    proc.exitCode = EXIT_INTERNAL;
  };
  proc.on('beforeExit', () => {
    if (!settled) fail('the command ended before its answer was complete');
  });
  proc.on('uncaughtException', (e) => {
    fail(describe(e));
    proc.exit(EXIT_INTERNAL);
  });
  proc.on('unhandledRejection', (reason) => {
    fail(`unhandled rejection: ${describe(reason)}`);
    proc.exit(EXIT_INTERNAL);
  });
  command.then(
    (code) => {
      settled = true;
      if (!failed) proc.exitCode = code;
    },
    (e: unknown) => {
      settled = true;
      fail(describe(e));
    },
  );
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/**
 * `rx-bloombits query … | head`: when the reader closes the pipe, stdout fails with EPIPE.
 * Like `cat`, stop at once, quietly, with {@link EXIT_BROKEN_PIPE} (Node ignores SIGPIPE, so
 * without this the write error would surface as an internal error). Any other stdout
 * failure is an internal error: one line on stderr, {@link EXIT_INTERNAL}.
 * Stopping at once is safe for `index` too: sections are committed in atomic batches.
 */
export function exitOnBrokenPipe(
  stdout: { on(event: 'error', listener: (error: Error & { code?: string }) => void): unknown },
  stderr: { write(s: string): unknown },
  proc: Pick<GuardedProcess, 'exit'> = process,
): void {
  stdout.on('error', (e) => {
    if (e.code === 'EPIPE') return proc.exit(EXIT_BROKEN_PIPE);
    stderr.write(`rx-bloombits: internal error: cannot write the output: ${describe(e)}\n`);
    proc.exit(EXIT_INTERNAL);
  });
}
