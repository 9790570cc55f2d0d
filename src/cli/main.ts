#!/usr/bin/env node
import { guardExit } from './exitGuard.js';
import { runCli } from './program.js';

guardExit(runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }), process.stderr);
