import { defer, map, type Observable, of, share, take, tap } from 'rxjs';
import { SourceError } from '../errors.js';
import { fromAsync } from '../operators/fromAsync.js';
import type { Log } from '../types/chain.js';
import { parseLogJson, sortByLogIndex } from './parseLogJson.js';
import { readLines } from './readLines.js';
import type { LogsSource } from './types.js';

/**
 * A {@link LogsSource} backed by an NDJSON file of JSON-RPC log objects (`.gz` accepted).
 * The file is read once, on first use, into a map by block number shared by every later call
 * (if every caller unsubscribes before it is loaded, loading stops and the next call starts over;
 * a failed load is retried by the next call). Quantities may be JSON numbers or hex; logs come
 * out as {@link Log}s with hex quantities, sorted by log index.
 * With `hash`, only logs of that block hash are returned; a block number whose logs all belong
 * to another hash is a {@link SourceError} (the file is about a different fork).
 * Errors: {@link SourceError} naming the line of a bad line, or the unreadable file.
 */
export function ndjsonLogs(path: string): LogsSource {
  let loaded: Map<number, Log[]> | undefined;
  // One load shared by concurrent callers; the map is kept by `tap` before any caller can
  // unsubscribe (shareReplay with refCount would drop it when the last caller takes it and leaves).
  const loading$ = fromAsync<Map<number, Log[]>>(async (emit, signal) => {
    emit(await loadLogs(path, signal));
  }).pipe(
    tap((byBlock) => {
      loaded = byBlock;
    }),
    share(),
  );
  const byBlock$: Observable<Map<number, Log[]>> = defer(() => (loaded ? of(loaded) : loading$));

  return ({ number, hash }) =>
    byBlock$.pipe(
      take(1),
      map((byBlock) => {
        const logs = byBlock.get(number) ?? [];
        if (hash === undefined) {
          if (logs.some((l) => l.blockHash !== logs[0]!.blockHash)) {
            throw new SourceError(`${path}: block ${number} has logs of more than one block hash`);
          }
          return [...logs];
        }
        const wanted = hash.toLowerCase();
        const matching = logs.filter((l) => l.blockHash === wanted);
        if (matching.length === 0 && logs.length > 0) {
          throw new SourceError(
            `${path}: block ${number} has logs of block ${logs[0]!.blockHash}, not ${hash}`,
          );
        }
        return matching;
      }),
    );
}

async function loadLogs(path: string, signal: AbortSignal): Promise<Map<number, Log[]>> {
  const byBlock = new Map<number, Log[]>();
  let lineNumber = 0;
  try {
    for await (const line of readLines(path, signal)) {
      lineNumber++;
      if (line.trim() === '') continue;
      let log: Log;
      try {
        log = parseLogJson(JSON.parse(line));
      } catch (err) {
        throw new SourceError(`${path}:${lineNumber}: ${(err as Error).message}`, false, { cause: err });
      }
      const n = Number.parseInt(log.blockNumber, 16);
      const list = byBlock.get(n);
      if (list) list.push(log);
      else byBlock.set(n, [log]);
    }
  } catch (err) {
    if (signal.aborted || err instanceof SourceError) throw err;
    throw new SourceError(`${path}: ${(err as Error).message}`, false, { cause: err });
  }
  for (const logs of byBlock.values()) sortByLogIndex(logs);
  return byBlock;
}
