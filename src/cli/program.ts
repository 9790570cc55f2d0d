import { existsSync, readFileSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { EMPTY, filter as filterOp, lastValueFrom, type Observable, takeWhile, tap } from 'rxjs';
import type { AbiEvent } from 'viem';
import { BloomIndex, type HeaderSource } from '../bloomIndex.js';
import { DEFAULT_CONFIRMATIONS, DEFAULT_SECTION_SIZE } from '../constants.js';
import { BloomBitsError, ChainError } from '../errors.js';
import { liveHeaders } from '../sources/liveHeaders.js';
import { ndjsonHeaders } from '../sources/ndjsonHeaders.js';
import { ndjsonLogs } from '../sources/ndjsonLogs.js';
import { rpcCaller } from '../sources/provider.js';
import { rlpFileHeaders } from '../sources/rlpFileHeaders.js';
import { blockNumber, rpcHeaders } from '../sources/rpcHeaders.js';
import { rpcReceipts } from '../sources/rpcReceipts.js';
import { verifyStore } from '../store/verify.js';
import { parseBlockNumber } from '../types/blockNumber.js';
import type { BlockHeader, BlockNumberInput, Log, LogFilter } from '../types/chain.js';
import {
  applyFilterFlags,
  decodeLog,
  parseAddressArg,
  parseEventArg,
  parseTopicArg,
  type TopicArg,
} from './filterArgs.js';
import { CliError, type Db, openDb } from './openDb.js';
import { type ProgressTarget, progressReporter } from './progress.js';

/** Where the CLI writes. */
export interface CliIo {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  /** Aborted on Ctrl-C (SIGINT): `index` stops safely (exit 130), `query --follow` ends (exit 0). */
  interrupt?: AbortSignal;
}

/** Exit code of a usage error (a bad or inapplicable flag). */
const USAGE = 2;
/** Exit code after Ctrl-C stopped a command before its end (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130;

/** Runs the CLI; resolves to the exit code. Never throws. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : USAGE;
    const message =
      e instanceof BloomBitsError ? e.message : `unexpected error: ${(e as Error)?.message ?? String(e)}`;
    if (message !== '') io.stderr.write(`rx-bloombits: ${message}\n`);
    return e instanceof CliError ? e.exitCode : 1;
  }
}

function buildProgram(io: CliIo): Command {
  const program = new Command('rx-bloombits')
    .description('Index Ethereum logsBloom into bloom bits and search logs fast')
    .version(packageVersion(), '-V, --version', 'print the version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError();

  /** Prints a retry of a transient RPC failure as it happens (not after the backoff ran out). */
  const rpcOptions = (o: { rpcRetries: number; rpcTimeout?: number }) => ({
    retries: o.rpcRetries,
    timeoutMs: o.rpcTimeout,
    onRetry: (r: { attempt: number; retries: number; delayMs: number; error: Error }) => {
      io.stderr.write(
        `rx-bloombits: ${r.error.message}; retrying ${r.attempt}/${r.retries} in ${r.delayMs} ms\n`,
      );
    },
  });

  program
    .command('index')
    .description('index headers from a JSON-RPC node, an RLP chain export or an NDJSON file')
    .requiredOption('--db <dir>', 'index directory (LevelDB)')
    .option('--rpc <url>', 'JSON-RPC endpoint')
    .option('--rlp <file>', 'chain export file (geth export)')
    .option('--ndjson <file>', 'NDJSON file of JSON-RPC block objects (.gz accepted)')
    .option(
      '--to <block>',
      'last block to index (default: the latest block, or the whole file)',
      parseBlockArg,
    )
    .option('--rpc-retries <n>', 'retries of a transient RPC failure, with doubling backoff', parseIntArg, 5)
    .option('--rpc-timeout <ms>', 'time limit of one JSON-RPC request', parsePositiveIntArg)
    .option(
      '--section-size <n>',
      `blocks per section of a new index (default ${DEFAULT_SECTION_SIZE}; an existing index keeps its own)`,
      parsePositiveIntArg,
    )
    .option(
      '--confirmations <n>',
      'blocks on top before a section is committed',
      parseIntArg,
      DEFAULT_CONFIRMATIONS,
    )
    .option('--allow-deep-reorg', 'roll back committed sections when the chain reorganises below them')
    .option('--json', 'print progress as NDJSON')
    .exitOverride()
    .action(async (o, cmd: Command) => {
      const chosen = [o.rpc, o.rlp, o.ndjson].filter((x) => x !== undefined);
      if (chosen.length !== 1) throw new CliError('index needs exactly one of --rpc, --rlp, --ndjson', USAGE);
      if (o.rpc === undefined) onlyWith(cmd, ['rpcRetries', 'rpcTimeout'], '--rpc');
      const to = o.to === undefined || o.to === 'latest' ? undefined : parseBlockNumber(o.to);
      // A file's progress is the bytes read of it (a restart after a reorg reads it again from 0).
      let position = 0;
      const onRead = (at: number): void => {
        position = at;
      };
      const source: HeaderSource = o.rpc
        ? (fromBlock: number) =>
            to !== undefined && fromBlock > to
              ? EMPTY
              : rpcHeaders(o.rpc, { fromBlock, toBlock: to ?? 'latest', ...rpcOptions(o) })
        : fileSource(o.rlp ? rlpFileHeaders(o.rlp, { onRead }) : ndjsonHeaders(o.ndjson, { onRead }), to);
      // The bar's end: --to, else the node's head now, else the file's size.
      const progressTarget = async (): Promise<ProgressTarget | undefined> => {
        if (to !== undefined) return { block: to };
        if (o.rpc) return { block: await blockNumber(rpcCaller(o.rpc, rpcOptions(o)), neverAborted) };
        // an unreadable file is reported by its source, with its name
        const size = await stat(o.rlp ?? o.ndjson).then(
          (st) => st.size,
          () => undefined,
        );
        return size === undefined ? undefined : { size, position: () => position };
      };
      await withIndex(
        o.db,
        true,
        { sectionSize: o.sectionSize, confirmations: o.confirmations },
        async (index) => {
          const reporter = o.json ? undefined : progressReporter(io.stderr, await progressTarget());
          try {
            const run = index
              .indexHeaders(source, { allowDeepReorg: o.allowDeepReorg === true })
              .pipe(tap((p) => (o.json ? io.stdout.write(`${JSON.stringify(p)}\n`) : reporter?.update(p))));
            const last = await untilInterrupted(run, io.interrupt);
            reporter?.stop();
            if (last === INTERRUPTED) {
              await settleWrites(index);
              const info = index.info();
              io.stderr.write(
                `rx-bloombits: interrupted at block ${info.head} (${info.sections} sections committed); ` +
                  'the index is consistent: run the same command again to resume\n',
              );
              throw new CliError('', EXIT_INTERRUPTED);
            }
            const info = index.info();
            if (!o.json) {
              io.stdout.write(
                `indexed to block ${info.head}: ${info.sections} sections committed, ${info.tailLength} blocks in the tail` +
                  (last ? ` (${Math.round(last.blocksPerSecond)} blocks/s)` : '') +
                  '\n',
              );
            }
          } catch (e) {
            // The library names its option; a CLI user needs the flag.
            if (e instanceof ChainError && e.message.includes('allowDeepReorg'))
              throw new CliError(e.message.replace(/\ballowDeepReorg\b/, '--allow-deep-reorg'));
            throw e;
          } finally {
            reporter?.stop();
          }
        },
      );
    });

  program
    .command('query')
    .description(
      'print candidate blocks (or, with --logs, the exact logs) of an eth_getLogs filter; --follow keeps going live',
    )
    .requiredOption('--db <dir>', 'index directory')
    .option(
      '--filter <json>',
      'eth_getLogs filter object, e.g. {"address":"0x...","topics":["0x..."]}',
      parseFilterArg,
      {},
    )
    .option(
      '--event <signature>',
      "event signature for topic0 (and decoded args with --logs), e.g. 'Transfer(address indexed from, address indexed to, uint256 value)'",
      parseEventArg,
    )
    .option('--address <addresses>', 'contract address; repeat or comma-separate for OR', parseAddressArg)
    .option('--topic0 <topics>', TOPIC_HELP, parseTopicArg)
    .option('--topic1 <topics>', TOPIC_HELP, parseTopicArg)
    .option('--topic2 <topics>', TOPIC_HELP, parseTopicArg)
    .option('--topic3 <topics>', TOPIC_HELP, parseTopicArg)
    .option('--from <block>', "first block (default: the filter's fromBlock, else 0)", parseBlockArg)
    .option(
      '--to <block>',
      "last block or 'latest' (default: the filter's toBlock, else latest)",
      parseBlockArg,
    )
    .option('--logs', 'fetch and print the exact logs as NDJSON (needs --rpc or --logs-ndjson)')
    .option(
      '--follow',
      'after the history, index new blocks from --rpc and print their logs as they come, until Ctrl-C (implies --logs)',
    )
    .option(
      '--poll-interval <ms>',
      'with --follow: how often to ask the node for its head',
      parsePositiveIntArg,
    )
    .option('--rpc <url>', 'JSON-RPC endpoint for receipts (with --logs) and new headers (with --follow)')
    .option('--logs-ndjson <file>', 'NDJSON file of logs, .gz accepted (with --logs)')
    .option('--rpc-retries <n>', 'retries of a transient RPC failure, with doubling backoff', parseIntArg, 5)
    .option('--rpc-timeout <ms>', 'time limit of one JSON-RPC request', parsePositiveIntArg)
    .option('--json', 'NDJSON output for everything')
    .option('-q, --quiet', 'no summary line on stderr')
    .exitOverride()
    .action(async (o, cmd: Command) => {
      const logsMode = o.logs === true || o.follow === true;
      if (!logsMode) onlyWith(cmd, ['rpc', 'logsNdjson', 'rpcRetries', 'rpcTimeout'], '--logs');
      else if ((o.rpc === undefined) === (o.logsNdjson === undefined))
        throw new CliError(
          `${o.follow ? '--follow' : '--logs'} needs exactly one of --rpc, --logs-ndjson`,
          USAGE,
        );
      else if (o.rpc === undefined) onlyWith(cmd, ['rpcRetries', 'rpcTimeout'], '--rpc');
      if (o.follow) {
        if (o.rpc === undefined)
          throw new CliError('--follow needs --rpc (where new headers come from)', USAGE);
        onlyWith(cmd, ['to'], 'a bounded query (not --follow)');
      } else onlyWith(cmd, ['pollInterval'], '--follow');
      // The range may come inside --filter (eth_getLogs style); the library takes it apart.
      const { fromBlock, toBlock, ...base } = o.filter as LogFilter & {
        fromBlock?: BlockNumberInput;
        toBlock?: BlockNumberInput;
      };
      const event = o.event as AbiEvent | undefined;
      const filter = applyFilterFlags(
        base,
        {
          address: o.address,
          event,
          topics: [o.topic0, o.topic1, o.topic2, o.topic3] as (TopicArg | undefined)[],
        },
        (what) => {
          throw new CliError(`${what} both set the same position: give it once`, USAGE);
        },
      );
      const range = { fromBlock: o.from ?? fromBlock ?? 0, toBlock: o.to ?? toBlock ?? 'latest' };
      const started = performance.now();
      const stats = { candidates: new Set<number>(), logs: 0, logBlocks: new Set<string>(), retracted: 0 };
      const printLog = (log: Log) => {
        // --follow: a reorg's retractions (`removed: true`) are printed, counted apart.
        if (log.removed) stats.retracted++;
        else {
          stats.logs++;
          stats.logBlocks.add(log.blockNumber);
        }
        io.stdout.write(`${JSON.stringify(event ? decodeLog(log, event) : log)}\n`);
      };
      const summary = (): void => {
        if (o.quiet) return;
        const seconds = ((performance.now() - started) / 1000).toFixed(2);
        const n = stats.candidates.size;
        io.stderr.write(
          logsMode
            ? `query: ${n} candidate ${plural(n, 'block')}, ${stats.logs} ${plural(stats.logs, 'log')}, ` +
                `${n - stats.logBlocks.size} false-positive ${plural(n - stats.logBlocks.size, 'block')} removed, ` +
                (stats.retracted > 0
                  ? `${stats.retracted} ${plural(stats.retracted, 'log')} retracted by reorgs, `
                  : '') +
                `${seconds} s\n`
            : `query: ${n} candidate ${plural(n, 'block')}, ${seconds} s\n`,
        );
      };
      await withIndex(o.db, o.follow === true, {}, async (index) => {
        if (!logsMode) {
          await index.match(filter, range).forEach((n) => {
            stats.candidates.add(n);
            io.stdout.write(o.json ? `${JSON.stringify({ blockNumber: n })}\n` : `${n}\n`);
          });
          return summary();
        }
        const source = o.rpc ? rpcReceipts(o.rpc, rpcOptions(o)) : ndjsonLogs(o.logsNdjson);
        // Counts the candidate blocks (each fetched once) to report the false positives removed.
        const receipts: typeof source = (block) => {
          stats.candidates.add(block.number);
          return source(block);
        };
        if (!o.follow) {
          await index.logs(filter, range, { receipts }).forEach(printLog);
          return summary();
        }
        const url: string = o.rpc;
        const headers = (from: number) =>
          liveHeaders(url, { fromBlock: from, pollIntervalMs: o.pollInterval, ...rpcOptions(o) });
        const watching = index
          .watch(filter, { receipts, source: headers, fromBlock: range.fromBlock })
          .pipe(tap(printLog));
        const end = await untilInterrupted(watching, io.interrupt);
        if (end !== INTERRUPTED) throw new CliError('the live stream ended without Ctrl-C', 70);
        await settleWrites(index);
        summary();
      });
    });

  program
    .command('info')
    .description('show what an index holds')
    .requiredOption('--db <dir>', 'index directory')
    .option('--json', 'print as JSON')
    .exitOverride()
    .action(async (o) => {
      await withIndex(o.db, false, {}, async (index) => {
        const info = { ...index.info(), sizeOnDisk: await dirSize(o.db) };
        if (o.json) io.stdout.write(`${JSON.stringify(info)}\n`);
        else {
          io.stdout.write(
            [
              `sections:      ${info.sections} (of ${info.sectionSize} blocks)`,
              `indexed head:  ${info.indexedHead}`,
              `head:          ${info.head}`,
              `tail length:   ${info.tailLength}`,
              `size on disk:  ${info.sizeOnDisk} bytes`,
            ].join('\n') + '\n',
          );
        }
      });
    });

  program
    .command('verify')
    .description('check every section of an index (metadata, vectors, checksums, tail); exit 1 on a problem')
    .requiredOption('--db <dir>', 'index directory')
    .option('--json', 'print the report as JSON')
    .exitOverride()
    .action(async (o) => {
      const db = await openDb(o.db, false);
      try {
        const report = await verifyStore(db);
        if (o.json) io.stdout.write(`${JSON.stringify(report)}\n`);
        else {
          io.stdout.write(
            `${report.sections} sections of ${report.sectionSize} blocks: ${report.checked} checked, ` +
              `${report.unverifiable} unverifiable (no checksum), tail of ${report.tail.length} blocks from ${report.tail.from}; ` +
              `${report.problems.length} problems\n`,
          );
          for (const p of report.problems) io.stdout.write(`problem: ${p.key}: ${p.message}\n`);
        }
        if (report.problems.length > 0)
          throw new CliError(`${report.problems.length} problems found in the index at ${o.db}`);
      } finally {
        await db.close();
      }
    });
  return program;
}

const TOPIC_HELP =
  "topic at this position: 'null' (any), a 32-byte topic, an address (padded to 32 bytes), or a comma list (OR)";

/** Stands for "Ctrl-C ended it" in {@link untilInterrupted}. */
const INTERRUPTED = Symbol('interrupted');
const neverAborted = new AbortController().signal;

/**
 * Runs `source` to its end and resolves to its last value, or to {@link INTERRUPTED} once
 * `interrupt` aborts (the subscription is then closed: requests aborted, timers cleared).
 */
function untilInterrupted<T>(
  source: Observable<T>,
  interrupt: AbortSignal | undefined,
): Promise<T | undefined | typeof INTERRUPTED> {
  return new Promise((resolve, reject) => {
    let last: T | undefined;
    const stop = (): void => {
      sub.unsubscribe();
      resolve(INTERRUPTED);
    };
    const sub = source.subscribe({
      next: (v) => {
        last = v;
      },
      error: (e) => {
        interrupt?.removeEventListener('abort', stop);
        reject(e);
      },
      complete: () => {
        interrupt?.removeEventListener('abort', stop);
        resolve(last);
      },
    });
    if (sub.closed) return;
    if (interrupt?.aborted) stop();
    else interrupt?.addEventListener('abort', stop, { once: true });
  });
}

/**
 * Waits for a write that an unsubscribed `indexHeaders` run had in flight: the next run starts
 * only after it, so an empty run resolves once the db is quiet (and safe to close).
 */
async function settleWrites(index: BloomIndex): Promise<void> {
  await lastValueFrom(
    index.indexHeaders(() => EMPTY),
    { defaultValue: undefined },
  );
}

const plural = (n: number, word: string): string => (n === 1 ? word : `${word}s`);

/** The version in our package.json (found upwards from this file, in src/ or dist/). */
function packageVersion(): string {
  let dir = typeof __dirname === 'string' ? __dirname : dirname(process.argv[1] ?? '.');
  for (let i = 0; i < 5; i++) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'rx-bloombits' && pkg.version) return pkg.version;
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

/** Rejects each of `options` that was given on the command line: it only applies with `needs`. */
function onlyWith(cmd: Command, options: readonly string[], needs: string): void {
  for (const name of options) {
    if (cmd.getOptionValueSource(name) !== 'cli') continue;
    const flag = cmd.options.find((opt) => opt.attributeName() === name)?.long ?? name;
    throw new CliError(`${flag} applies only with ${needs}`, USAGE);
  }
}

/**
 * A file source as a factory: restarts replay the file and skip what is below `fromBlock`;
 * `to` (inclusive) stops reading there.
 */
function fileSource(headers: Observable<BlockHeader>, to: number | undefined): HeaderSource {
  const limited = to === undefined ? headers : headers.pipe(takeWhile((h) => h.number <= to));
  return (fromBlock: number) => limited.pipe(filterOp((h) => h.number >= fromBlock));
}

async function withIndex(
  dir: string,
  write: boolean,
  options: { sectionSize?: number; confirmations?: number },
  body: (index: BloomIndex) => Promise<void>,
): Promise<void> {
  const db: Db = await openDb(dir, write);
  try {
    const index = await BloomIndex.open(db, options);
    await body(index);
  } finally {
    await db.close();
  }
}

function parseIntArg(value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

function parsePositiveIntArg(value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

/** Decimal digits, a 0x quantity, 'earliest' or 'latest'; nothing else (an empty string is not block 0). */
function parseBlockArg(value: string): BlockNumberInput {
  if (value === 'latest' || value === 'earliest') return value;
  try {
    if (/^0x/i.test(value)) return parseBlockNumber(value as BlockNumberInput);
    if (/^\d+$/.test(value)) return parseBlockNumber(Number(value));
  } catch {
    // falls through to the usage error
  }
  throw new InvalidArgumentError("expected a block number, a 0x quantity, 'earliest' or 'latest'");
}

function parseFilterArg(value: string): LogFilter {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new InvalidArgumentError('expected a JSON object');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InvalidArgumentError('expected a JSON object');
  }
  return parsed as LogFilter;
}

async function dirSize(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? await dirSize(path) : (await stat(path)).size;
  }
  return total;
}
