import { Buffer } from 'node:buffer';
import type { Observable } from 'rxjs';
import { SourceError } from '../errors.js';
import { fromAsync } from '../operators/fromAsync.js';
import type { BlockHeader } from '../types/chain.js';
import { readOnWorker } from './headerWorker.js';
import { parseHeaderJson } from './parseHeaderJson.js';
import { readChunks } from './readLines.js';
import { scanHeaderLine } from './scanHeaderLine.js';
import type { FileSourceOptions } from './types.js';

const NEWLINE = 0x0a;
const CR = 0x0d;

/**
 * Headers from an NDJSON file, one JSON-RPC block object per line (`number` as a JSON number or
 * hex quantity, `hash`, `parentHash`, `logsBloom`), in file order; blank lines are skipped and
 * `.gz` (by name or magic bytes) is gunzipped. Streamed chunk by chunk. Cold: subscribing opens
 * the file, unsubscribing closes it.
 *
 * Lines are read from their bytes by a validating scanner that decodes only the four fields
 * (the indexer then reuses those bytes); any line it does not handle goes through JSON.parse,
 * so both paths give the same headers and the same errors.
 * The `worker` option is off by default: gunzip already runs off the main thread, and on two
 * cores shared with the indexer the worker's extra CPU (its start, the hand-over) cost more wall
 * time than the scanning it moved (measured: main-thread CPU halved, total CPU +30%, indexing
 * ~15% slower on a busy machine).
 * Errors: {@link SourceError} naming the line number of a bad line, or the unreadable file.
 * @example
 * ```ts
 * // ndjsonHeaders is exported by 'rx-bloombits/node' (it reads files).
 * await lastValueFrom(index.indexHeaders(ndjsonHeaders('headers.ndjson.gz')), { defaultValue: undefined });
 * ```
 */
export function ndjsonHeaders(path: string, options: FileSourceOptions = {}): Observable<BlockHeader> {
  return fromAsync<BlockHeader>(async (emit, signal) => {
    if (options.worker === true) {
      const line = (lineNumber: number, bytes: Uint8Array): BlockHeader | undefined => {
        const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
        return readLine(path, lineNumber, b, 0, b.length);
      };
      await readOnWorker({ kind: 'ndjson', path, line, onRead: options.onRead }, emit, signal);
      return;
    }
    let lineNumber = 0;
    /** Reads the line `b[start, end)` (without its newline) and emits its header, if it is not blank. */
    const line = (b: Buffer, start: number, end: number): void => {
      const header = readLine(path, ++lineNumber, b, start, end);
      if (header !== undefined) emit(header);
    };
    try {
      /** The start of a line that continues in the next chunk. */
      let partial: Buffer[] = [];
      for await (const chunk of readChunks(path, signal, options.onRead)) {
        let start = 0;
        let nl = chunk.indexOf(NEWLINE);
        if (partial.length > 0) {
          if (nl < 0) {
            partial.push(chunk);
            continue;
          }
          partial.push(chunk.subarray(0, nl));
          const joined = Buffer.concat(partial);
          partial = [];
          line(joined, 0, joined.length);
          if (signal.aborted) return;
          start = nl + 1;
          nl = chunk.indexOf(NEWLINE, start);
        }
        while (nl >= 0) {
          line(chunk, start, nl);
          if (signal.aborted) return;
          start = nl + 1;
          nl = chunk.indexOf(NEWLINE, start);
        }
        if (start < chunk.length) partial.push(chunk.subarray(start));
      }
      if (partial.length > 0) {
        const last = Buffer.concat(partial);
        line(last, 0, last.length);
      }
    } catch (err) {
      if (signal.aborted || err instanceof SourceError) throw err;
      throw new SourceError(`${path}: ${(err as Error).message}`, false, { cause: err });
    }
  });
}

/**
 * The header of line `lineNumber`, `b[start, end)` (without its newline): scanned, else parsed
 * with JSON.parse; undefined for a blank line. @throws SourceError naming the line.
 */
function readLine(
  path: string,
  lineNumber: number,
  b: Buffer,
  start: number,
  end: number,
): BlockHeader | undefined {
  const fast = scanHeaderLine(b, start, end);
  if (fast !== undefined) return fast;
  if (end > start && b[end - 1] === CR) end--; // as readline: "\r\n" ends a line
  const text = b.toString('utf8', start, end);
  if (text.trim() === '') return undefined;
  try {
    return parseHeaderJson(JSON.parse(text));
  } catch (err) {
    throw new SourceError(`${path}:${lineNumber}: ${(err as Error).message}`, false, { cause: err });
  }
}
