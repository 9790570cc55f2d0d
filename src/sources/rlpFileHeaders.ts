import { createReadStream } from 'node:fs';
import { addAbortSignal } from 'node:stream';
import type { Observable } from 'rxjs';
import { SourceError } from '../errors.js';
import { fromAsync } from '../operators/fromAsync.js';
import type { BlockHeader } from '../types/chain.js';
import { decodeRlpHeader } from './decodeRlpHeader.js';
import { readOnWorker, useWorker } from './headerWorker.js';
import { fastKeccak256, type Keccak256, keccak256 } from './keccakHasher.js';
import { readRlpItems } from './rlpItems.js';
import type { FileSourceOptions } from './types.js';

/**
 * Headers of a chain export file as `geth export` writes it (concatenated RLP blocks), in file
 * order. Streamed: one block is decoded at a time. Cold: subscribing opens the file,
 * unsubscribing closes it.
 * The `worker` option defaults to on for files of 2 MiB and more (a smaller file is read before
 * a worker would have started). Where the worker cannot load its Keccak (the ES module build run
 * from a directory that does not resolve `hash-wasm`), the file is read on the main thread.
 * Errors: {@link SourceError} naming the byte offset for an unreadable, truncated or corrupt file.
 */
export function rlpFileHeaders(path: string, options: FileSourceOptions = {}): Observable<BlockHeader> {
  return fromAsync<BlockHeader>(async (emit, signal) => {
    if (await useWorker(path, options.worker)) {
      const block = (offset: number, bytes: Uint8Array): BlockHeader => {
        try {
          return decodeBlock(bytes, offset, keccak256);
        } catch (err) {
          throw new SourceError(`${path}: ${(err as Error).message}`, false, { cause: err });
        }
      };
      // By default the main thread reads the first blocks while the worker starts.
      const head =
        options.worker === undefined
          ? (emitHead: (h: BlockHeader) => void, signalHead: AbortSignal, ready: () => boolean) =>
              readOnThisThread(path, options.onRead, emitHead, signalHead, ready)
          : undefined;
      const reader = { kind: 'rlp' as const, path, block, onRead: options.onRead, head };
      if (await readOnWorker(reader, emit, signal)) return;
    }
    await readOnThisThread(path, options.onRead, emit, signal);
  });
}

/**
 * Reads the blocks on the main thread, from the file's start until `stop()` turns true after a
 * block (checked between reads); resolves the byte after that block, or undefined at the end of
 * the file (or once aborted).
 */
async function readOnThisThread(
  path: string,
  onRead: ((position: number) => void) | undefined,
  emit: (header: BlockHeader) => void,
  signal: AbortSignal,
  stop: () => boolean = () => false,
): Promise<number | undefined> {
  const hash = await fastKeccak256();
  const stream = addAbortSignal(signal, createReadStream(path, { highWaterMark: 256 * 1024 }));
  try {
    for await (const { bytes, offset } of readRlpItems(stream)) {
      emit(decodeBlock(bytes, offset, hash));
      onRead?.(offset + bytes.length);
      if (signal.aborted) return undefined;
      if (stop()) return offset + bytes.length;
    }
    return undefined;
  } catch (err) {
    if (signal.aborted) throw err;
    // File-system errors (ENOENT, EISDIR...) and format errors alike name the file.
    throw new SourceError(`${path}: ${(err as Error).message}`, false, { cause: err });
  } finally {
    stream.destroy();
  }
}

/** The header of the block at byte `offset`. @throws SourceError naming the offset. */
function decodeBlock(bytes: Uint8Array, offset: number, hash: Keccak256): BlockHeader {
  try {
    return decodeRlpHeader(bytes, hash);
  } catch (err) {
    if (!(err instanceof SourceError)) throw err;
    throw new SourceError(`block at byte ${offset}: ${err.message}`, false, { cause: err });
  }
}
