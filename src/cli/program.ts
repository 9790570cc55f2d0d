import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { filter as filterOp, lastValueFrom, type Observable, tap } from 'rxjs';
import { DEFAULT_CONFIRMATIONS, DEFAULT_SECTION_SIZE } from '../constants.js';
import { BloomBitsError } from '../errors.js';
import { parseBlockNumber } from '../filter/blockNumber.js';
import type { BlockHeader, BlockNumberInput, LogFilter } from '../filter/types.js';
import { BloomIndex, type HeaderSource } from '../indexer/bloomIndex.js';
import { ndjsonHeaders } from '../sources/ndjsonHeaders.js';
import { ndjsonLogs } from '../sources/ndjsonLogs.js';
import { rlpFileHeaders } from '../sources/rlpFileHeaders.js';
import { rpcHeaders } from '../sources/rpcHeaders.js';
import { rpcReceipts } from '../sources/rpcReceipts.js';
import { CliError, openDb } from './openDb.js';
import { progressReporter } from './progress.js';

/** Where the CLI writes. */
export interface CliIo {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

/** Runs the CLI; resolves to the exit code. Never throws. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    const message =
      e instanceof BloomBitsError ? e.message : `unexpected error: ${(e as Error)?.message ?? String(e)}`;
    io.stderr.write(`rx-bloombits: ${message}\n`);
    return e instanceof CliError ? e.exitCode : 1;
  }
}

function buildProgram(io: CliIo): Command {
  const program = new Command('rx-bloombits')
    .description('Index Ethereum logsBloom into bloom bits and search logs fast')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError();

  program
    .command('index')
    .description('index headers from a JSON-RPC node, an RLP chain export or an NDJSON file')
    .requiredOption('--db <dir>', 'index directory (LevelDB)')
    .option('--rpc <url>', 'JSON-RPC endpoint')
    .option('--rlp <file>', 'chain export file (geth export)')
    .option('--ndjson <file>', 'NDJSON file of JSON-RPC block objects (.gz accepted)')
    .option('--to <block>', 'last block to index (--rpc only; default latest)', parseBlockArg)
    .option('--rpc-retries <n>', 'retries of a transient RPC failure, with doubling backoff', parseIntArg, 5)
    .option('--section-size <n>', 'blocks per section', parseIntArg, DEFAULT_SECTION_SIZE)
    .option(
      '--confirmations <n>',
      'blocks on top before a section is committed',
      parseIntArg,
      DEFAULT_CONFIRMATIONS,
    )
    .option('--json', 'print progress as NDJSON')
    .exitOverride()
    .action(async (o) => {
      const chosen = [o.rpc, o.rlp, o.ndjson].filter((x) => x !== undefined);
      if (chosen.length !== 1) throw new CliError('index needs exactly one of --rpc, --rlp, --ndjson', 2);
      const source: HeaderSource = o.rpc
        ? (fromBlock: number) =>
            rpcHeaders(o.rpc, { fromBlock, toBlock: o.to ?? 'latest', retries: o.rpcRetries })
        : fileSource(o.rlp ? rlpFileHeaders(o.rlp) : ndjsonHeaders(o.ndjson));
      await withIndex(
        o.db,
        true,
        { sectionSize: o.sectionSize, confirmations: o.confirmations },
        async (index) => {
          const reporter = o.json
            ? undefined
            : progressReporter(io.stderr, typeof o.to === 'number' ? o.to : undefined);
          try {
            const last = await lastValueFrom(
              index
                .indexHeaders(source)
                .pipe(tap((p) => (o.json ? io.stdout.write(`${JSON.stringify(p)}\n`) : reporter?.update(p)))),
              { defaultValue: undefined },
            );
            reporter?.stop();
            const info = index.info();
            if (!o.json) {
              io.stdout.write(
                `indexed to block ${info.head}: ${info.sections} sections committed, ${info.tailLength} blocks in the tail` +
                  (last ? ` (${Math.round(last.blocksPerSecond)} blocks/s)` : '') +
                  '\n',
              );
            }
          } finally {
            reporter?.stop();
          }
        },
      );
    });

  program
    .command('query')
    .description('print candidate blocks (or, with --logs, the exact logs) of an eth_getLogs filter')
    .requiredOption('--db <dir>', 'index directory')
    .requiredOption(
      '--filter <json>',
      'eth_getLogs filter object, e.g. {"address":"0x...","topics":["0x..."]}',
      parseFilterArg,
    )
    .option('--from <block>', "first block (default: the filter's fromBlock, else 0)", parseBlockArg)
    .option(
      '--to <block>',
      "last block or 'latest' (default: the filter's toBlock, else latest)",
      parseBlockArg,
    )
    .option('--logs', 'fetch and print the exact logs as NDJSON (needs --rpc or --logs-ndjson)')
    .option('--rpc <url>', 'JSON-RPC endpoint for receipts')
    .option('--logs-ndjson <file>', 'NDJSON file of logs (.gz accepted)')
    .option('--rpc-retries <n>', 'retries of a transient RPC failure, with doubling backoff', parseIntArg, 5)
    .option('--json', 'NDJSON output for everything')
    .exitOverride()
    .action(async (o) => {
      const { fromBlock, toBlock, ...filter } = o.filter as LogFilter & {
        fromBlock?: BlockNumberInput;
        toBlock?: BlockNumberInput;
      };
      const range = { fromBlock: o.from ?? fromBlock ?? 0, toBlock: o.to ?? toBlock ?? 'latest' };
      if (o.logs && !o.rpc && !o.logsNdjson) throw new CliError('--logs needs --rpc or --logs-ndjson', 2);
      await withIndex(o.db, false, {}, async (index) => {
        if (o.logs) {
          const receipts = o.rpc ? rpcReceipts(o.rpc, { retries: o.rpcRetries }) : ndjsonLogs(o.logsNdjson);
          await drain(index.logs(filter, range, { receipts }), (log) =>
            io.stdout.write(`${JSON.stringify(log)}\n`),
          );
        } else {
          await drain(index.match(filter, range), (n) =>
            io.stdout.write(o.json ? `${JSON.stringify({ blockNumber: n })}\n` : `${n}\n`),
          );
        }
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
  return program;
}

/** A file source as a factory: restarts replay the file and skip what is below `fromBlock`. */
function fileSource(headers: Observable<BlockHeader>): HeaderSource {
  return (fromBlock: number) => headers.pipe(filterOp((h) => h.number >= fromBlock));
}

async function withIndex(
  dir: string,
  create: boolean,
  options: { sectionSize?: number; confirmations?: number },
  body: (index: BloomIndex) => Promise<void>,
): Promise<void> {
  const db = await openDb(dir, create);
  try {
    const index = await BloomIndex.open(db, options);
    await body(index);
  } finally {
    await db.close();
  }
}

function drain<T>(source: Observable<T>, each: (value: T) => void): Promise<void> {
  return new Promise((resolve, reject) => source.subscribe({ next: each, error: reject, complete: resolve }));
}

function parseIntArg(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

function parseBlockArg(value: string): BlockNumberInput {
  if (value === 'latest' || value === 'earliest') return value;
  try {
    return parseBlockNumber(/^0x/i.test(value) ? (value as BlockNumberInput) : Number(value));
  } catch {
    throw new InvalidArgumentError("expected a block number, a 0x quantity, 'earliest' or 'latest'");
  }
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
