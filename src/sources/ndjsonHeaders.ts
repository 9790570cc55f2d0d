import type { Observable } from 'rxjs';
import { SourceError } from '../errors.js';
import { fromAsync } from '../operators/fromAsync.js';
import type { BlockHeader } from '../types/chain.js';
import { parseHeaderJson } from './parseHeaderJson.js';
import { readLines } from './readLines.js';

/**
 * Headers from an NDJSON file, one JSON-RPC block object per line (`number` as a JSON number or
 * hex quantity, `hash`, `parentHash`, `logsBloom`), in file order; blank lines are skipped and
 * `.gz` (by name or magic bytes) is gunzipped. Streamed line by line. Cold: subscribing opens
 * the file, unsubscribing closes it.
 * Errors: {@link SourceError} naming the line number of a bad line, or the unreadable file.
 * @example
 * ```ts
 * // ndjsonHeaders is exported by 'rx-bloombits/node' (it reads files).
 * await lastValueFrom(index.indexHeaders(ndjsonHeaders('headers.ndjson.gz')), { defaultValue: undefined });
 * ```
 */
export function ndjsonHeaders(
  path: string,
  options: {
    /** Told the bytes of the file read so far (for progress). */ onRead?: (position: number) => void;
  } = {},
): Observable<BlockHeader> {
  return fromAsync<BlockHeader>(async (emit, signal) => {
    let lineNumber = 0;
    try {
      for await (const line of readLines(path, signal, options.onRead)) {
        lineNumber++;
        if (line.trim() === '') continue;
        let header: BlockHeader;
        try {
          header = parseHeaderJson(JSON.parse(line));
        } catch (err) {
          throw new SourceError(`${path}:${lineNumber}: ${(err as Error).message}`, false, { cause: err });
        }
        emit(header);
        if (signal.aborted) return;
      }
    } catch (err) {
      if (signal.aborted || err instanceof SourceError) throw err;
      throw new SourceError(`${path}: ${(err as Error).message}`, false, { cause: err });
    }
  });
}
