import { createReadStream } from 'node:fs';
import { addAbortSignal } from 'node:stream';
import type { Observable } from 'rxjs';
import { SourceError } from '../errors.js';
import { fromAsync } from '../operators/fromAsync.js';
import type { BlockHeader } from '../types/chain.js';
import { decodeRlpHeader } from './decodeRlpHeader.js';
import { fastKeccak256 } from './keccakHasher.js';
import { readRlpItems } from './rlpItems.js';

/**
 * Headers of a chain export file as `geth export` writes it (concatenated RLP blocks), in file
 * order. Streamed: one block is decoded at a time. Cold: subscribing opens the file,
 * unsubscribing closes it.
 * Errors: {@link SourceError} naming the byte offset for an unreadable, truncated or corrupt file.
 */
export function rlpFileHeaders(
  path: string,
  options: {
    /** Told the bytes of the file read so far (for progress). */ onRead?: (position: number) => void;
  } = {},
): Observable<BlockHeader> {
  return fromAsync<BlockHeader>(async (emit, signal) => {
    const hash = await fastKeccak256();
    const stream = addAbortSignal(signal, createReadStream(path, { highWaterMark: 256 * 1024 }));
    try {
      for await (const { bytes, offset } of readRlpItems(stream)) {
        let header: BlockHeader;
        try {
          header = decodeRlpHeader(bytes, hash);
        } catch (err) {
          if (!(err instanceof SourceError)) throw err;
          throw new SourceError(`block at byte ${offset}: ${err.message}`, false, { cause: err });
        }
        emit(header);
        options.onRead?.(offset + bytes.length);
        if (signal.aborted) return;
      }
    } catch (err) {
      if (signal.aborted) throw err;
      // File-system errors (ENOENT, EISDIR...) and format errors alike name the file.
      throw new SourceError(`${path}: ${(err as Error).message}`, false, { cause: err });
    } finally {
      stream.destroy();
    }
  });
}
