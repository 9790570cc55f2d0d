#!/usr/bin/env node
import { getEventListeners } from 'node:events';
import { exitOnBrokenPipe, guardExit } from './exitGuard.js';
import { EXIT_INTERRUPTED, runCli } from './program.js';

// Ctrl-C: a command that listens (index, query --follow) stops cleanly; otherwise, or on a
// second Ctrl-C, the process ends at once with 130 as usual.
const interrupt = new AbortController();
process.on('SIGINT', () => {
  if (interrupt.signal.aborted || getEventListeners(interrupt.signal, 'abort').length === 0) {
    process.exit(EXIT_INTERRUPTED);
  }
  interrupt.abort();
});

exitOnBrokenPipe(process.stdout, process.stderr);

guardExit(
  runCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    interrupt: interrupt.signal,
  }),
  process.stderr,
);
