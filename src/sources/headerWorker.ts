import { Buffer } from 'node:buffer';
import { stat } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { SourceError } from '../errors.js';
import { DecodedHeader } from '../indexer/decodedHeader.js';
import type { BlockHeader } from '../types/chain.js';
import { headerFieldScanner } from './scanHeaderLine.js';

/**
 * RLP files at least this large are read on a worker thread by default. Starting one costs
 * ~20-40 ms; a smaller file is read in that time on the main thread.
 */
export const WORKER_MIN_BYTES = 2 * 1024 * 1024;
/**
 * Headers per message. A batch (~123 KiB) is handed over (transferred), not copied, and stays
 * under glibc's mmap threshold (128 KiB): a larger buffer is mapped fresh and page-faulted each
 * time (a 250 KB batch took ~0.5-1 ms to allocate, 84 KB ~0.03 ms).
 */
const BATCH = 384;
/** Messages the worker may have in flight before the main thread acknowledges them (backpressure). */
const WINDOW = 16;
/** Bytes per file read and per gunzip output chunk (as the main-thread readers). */
const CHUNK_BYTES = 256 * 1024;

// A batch of n headers is one ArrayBuffer: n float64 block numbers, then per header its 32-byte
// hash, 32-byte parentHash and 256-byte bloom. The hex strings are the main thread's to make
// (natively, from these bytes): the worker writing them cost it more than they cost there.
const BYTES_PER_HEADER = 32 + 32 + 256;
const layout = { batch: BATCH, bytesAt: 8 * BATCH };
const batchBytes = layout.bytesAt + BYTES_PER_HEADER * BATCH;

/** What the main thread tells the worker. */
interface WorkerData {
  kind: 'ndjson' | 'rlp';
  path: string;
  batch: number;
  bytesAt: number;
  batchBytes: number;
  window: number;
  chunkBytes: number;
  /** Where to load hash-wasm from (undefined: resolve it from the working directory). */
  hashWasm: string | undefined;
  /** RLP: post `ready` once able to read, then wait to be told the byte to start at. */
  handOver: boolean;
}

/** What the worker tells the main thread, in file order. */
type WorkerMessage =
  /** `count` decoded headers; `position`: bytes of the file read so far (compressed for .gz). */
  | { type: 'headers'; buffer: ArrayBuffer; count: number; position: number }
  /** An NDJSON line the scanner does not handle (to parse the slow way, which names any error). */
  | { type: 'line'; line: number; bytes: Uint8Array; position: number }
  /** An RLP block the fast walk does not handle (to decode the slow way, which names any error). */
  | { type: 'block'; offset: number; bytes: Uint8Array; position: number }
  | { type: 'done' }
  /** Able to read (with `handOver`): the main thread answers with the byte to start at. */
  | { type: 'ready' }
  /** The RLP worker cannot load its Keccak: the caller reads the file on the main thread instead. */
  | { type: 'unavailable' }
  /** `format`: a malformed file (else the file system's or zlib's error, with its `code`). */
  | { type: 'error'; message: string; code: string | undefined; format: boolean };

/**
 * The worker's program. Self-contained (it refers to nothing outside its body: its source text
 * is what the worker runs, so no file path has to resolve in ts-jest, dist/cjs, dist/esm or a
 * bundle): it reads the file, splits it into lines or RLP blocks, decodes the four header fields
 * into batches and posts them, never more than `window` messages ahead of the main thread.
 * Anything unusual (a line or block the fast code does not read) is posted as it is, for the main
 * thread to read with the single-threaded code, so results and errors are exactly those.
 */
/* istanbul ignore next: runs in the worker, where coverage counters do not exist */
function headerWorkerMain(makeScanner: typeof headerFieldScanner, load: NodeJS.Require): void {
  const { parentPort, workerData } = load('node:worker_threads') as typeof import('node:worker_threads');
  const fs = load('node:fs') as typeof import('node:fs');
  const zlib = load('node:zlib') as typeof import('node:zlib');
  const { Buffer: Bytes } = load('node:buffer') as typeof import('node:buffer');
  const data = workerData as WorkerData;
  const port = parentPort!;
  const B = data.batch;

  let credits = data.window;
  let wake: (() => void) | undefined;
  let startAt: (start: number) => void = () => {};
  const started = new Promise<number>((resolve) => (startAt = resolve));
  port.on('message', (message: number | { start: number }) => {
    if (typeof message !== 'number') return startAt(message.start);
    credits += message;
    const w = wake;
    wake = undefined;
    w?.();
  });
  const waitCredit = async (): Promise<void> => {
    while (credits <= 0) await new Promise<void>((resolve) => (wake = resolve));
  };
  const post = (message: WorkerMessage, transfer?: ArrayBuffer[]): void => {
    credits--;
    port.postMessage(message, transfer);
  };

  let buffer = new ArrayBuffer(data.batchBytes);
  let u8 = new Uint8Array(buffer);
  let numbers = new Float64Array(buffer, 0, B);
  let count = 0;
  /** Bytes of the file read so far. */
  let position = 0;
  const flush = (): void => {
    if (count === 0) return;
    post({ type: 'headers', buffer, count, position }, [buffer]);
    buffer = new ArrayBuffer(data.batchBytes);
    u8 = new Uint8Array(buffer);
    numbers = new Float64Array(buffer, 0, B);
    count = 0;
  };
  const bytesAt = (field: number): number => data.bytesAt + count * 320 + field;

  /** Two hex digits' character codes (`hi << 8 | lo`) to their byte; -1: not hex. */
  const PAIR = new Int16Array(65536).fill(-1);
  const digits: [number, number][] = [];
  for (let i = 0; i < 16; i++) digits.push(['0123456789abcdef'.charCodeAt(i), i]);
  for (let i = 10; i < 16; i++) digits.push(['0123456789ABCDEF'.charCodeAt(i), i]);
  for (const [hi, h] of digits) for (const [lo, l] of digits) PAIR[(hi << 8) | lo] = (h << 4) | l;

  /**
   * Decodes the JSON string `"0x…"` of `length` bytes at `b[p]` (just past its quote) into the
   * current record at `to`; false when it is not exactly that (checks every digit).
   */
  const hexField = (b: Uint8Array, p: number, length: number, to: number): boolean => {
    if (b[p] !== 0x30 || b[p + 1] !== 0x78 || b[p + 2 + 2 * length] !== 0x22) return false;
    for (let i = 0, q = p + 2; i < length; i++, q += 2) {
      const v = PAIR[(b[q]! << 8) | b[q + 1]!]!;
      if (v < 0) return false;
      u8[to + i] = v;
    }
    return true;
  };

  async function ndjson(): Promise<void> {
    const scan = makeScanner();
    const at = new Float64Array(4);
    const handle = await fs.promises.open(data.path, 'r');
    let gzip: boolean;
    try {
      const magic = new Uint8Array(2);
      const { bytesRead } = await handle.read(magic, 0, 2, 0);
      gzip = data.path.endsWith('.gz') || (bytesRead === 2 && magic[0] === 0x1f && magic[1] === 0x8b);
    } catch (err) {
      await handle.close();
      throw err;
    }
    const file = handle.createReadStream({ start: 0, highWaterMark: data.chunkBytes });
    const input = gzip ? file.pipe(zlib.createGunzip({ chunkSize: data.chunkBytes })) : file;
    if (gzip) {
      file.on('data', (chunk) => (position += chunk.length));
      file.on('error', (err) => input.destroy(err));
    }
    let lineNumber = 0;
    const line = (b: Buffer, start: number, end: number): void => {
      lineNumber++;
      if (
        scan(b, start, end, at) &&
        hexField(b, at[1]!, 32, bytesAt(0)) &&
        hexField(b, at[2]!, 32, bytesAt(32)) &&
        hexField(b, at[3]!, 256, bytesAt(64))
      ) {
        numbers[count++] = at[0]!;
        if (count === B) flush();
        return;
      }
      let blank = true;
      for (let p = start; p < end && blank; p++) blank = b[p] === 0x20 || b[p] === 0x09 || b[p] === 0x0d;
      if (blank) return;
      flush();
      post({ type: 'line', line: lineNumber, bytes: b.slice(start, end), position });
    };
    let partial: Uint8Array[] = [];
    for await (const chunk of input as AsyncIterable<Buffer>) {
      if (!gzip) position += chunk.length;
      let start = 0;
      let nl = chunk.indexOf(0x0a);
      if (partial.length > 0) {
        if (nl < 0) {
          partial.push(chunk);
          continue;
        }
        partial.push(chunk.subarray(0, nl));
        const joined = Bytes.concat(partial);
        partial = [];
        line(joined, 0, joined.length);
        start = nl + 1;
        nl = chunk.indexOf(0x0a, start);
      }
      while (nl >= 0) {
        line(chunk, start, nl);
        start = nl + 1;
        nl = chunk.indexOf(0x0a, start);
      }
      if (start < chunk.length) partial.push(chunk.subarray(start));
      await waitCredit();
    }
    if (partial.length > 0) {
      const last = Bytes.concat(partial);
      line(last, 0, last.length);
    }
  }

  /** Largest top-level item accepted (as MAX_RLP_ITEM_BYTES). */
  const MAX_ITEM = 256 * 1024 * 1024;
  /** Thrown for a malformed file: its message is the error's. */
  class FormatError extends Error {}
  // The RLP prefix last read by `prefix` (scratch fields, not a tuple: ~25 per block add up).
  let isList = false;
  let prefixLength = 0;
  let payloadLength = 0;
  /** Reads the RLP prefix at `b[pos]` as readRlpPrefix does; false when `b` ends first. */
  const prefix = (b: Uint8Array, pos: number): boolean => {
    const c = b[pos];
    if (c === undefined) return false;
    isList = c >= 0xc0;
    if (c < 0x80) {
      prefixLength = 0;
      payloadLength = 1;
    } else if (c <= 0xb7 || (isList && c <= 0xf7)) {
      prefixLength = 1;
      payloadLength = c - (isList ? 0xc0 : 0x80);
    } else {
      const lengthOfLength = isList ? c - 0xf7 : c - 0xb7;
      if (pos + 1 + lengthOfLength > b.length) return false;
      if (b[pos + 1] === 0) throw new FormatError('invalid RLP: length with a leading zero');
      let length = 0;
      for (let i = 1; i <= lengthOfLength; i++) {
        length = length * 256 + b[pos + i]!;
        if (length > MAX_ITEM) throw new FormatError(`RLP item larger than ${MAX_ITEM} bytes`);
      }
      if (length < 56) throw new FormatError('invalid RLP: long form used for a short length');
      prefixLength = 1 + lengthOfLength;
      payloadLength = length;
    }
    return true;
  };

  async function rlp(): Promise<void> {
    let createKeccak: typeof import('hash-wasm').createKeccak;
    try {
      ({ createKeccak } = load(data.hashWasm ?? 'hash-wasm') as typeof import('hash-wasm'));
    } catch {
      post({ type: 'unavailable' });
      return;
    }
    const hasher = await createKeccak(256);
    let start = 0;
    if (data.handOver) {
      port.postMessage({ type: 'ready' });
      start = await started;
    }
    /**
     * Decodes the block `b[from, to)` (one whole top-level list) into the current record; false
     * for anything decodeRlpHeader would reject or read the slow way (left to the main thread).
     */
    const decode = (b: Uint8Array, from: number, to: number): boolean => {
      if (!prefix(b, from)) return false;
      const start = from + prefixLength;
      if (!prefix(b, start) || !isList) return false;
      const end = start + prefixLength + payloadLength;
      if (end > to) return false;
      let field = 0;
      let parentAt = -1;
      let parentLength = 0;
      let bloomAt = -1;
      let bloomLength = 0;
      let number = 0;
      for (let pos = start + prefixLength; pos < end; field++) {
        if (!prefix(b, pos) || isList) return false;
        const at = pos + prefixLength;
        pos = at + payloadLength;
        if (pos > end || (prefixLength === 1 && payloadLength === 1 && b[at]! < 0x80)) return false;
        if (field === 0) {
          parentAt = at;
          parentLength = payloadLength;
        } else if (field === 6) {
          bloomAt = at;
          bloomLength = payloadLength;
        } else if (field === 8) {
          if (payloadLength > 0 && b[at] === 0) return false;
          for (let i = at; i < pos; i++) number = number * 256 + b[i]!;
        }
      }
      if (field < 15 || parentLength !== 32 || bloomLength !== 256 || !Number.isSafeInteger(number))
        return false;
      hasher.init();
      hasher.update(b.subarray(start, end));
      u8.set(hasher.digest('binary'), bytesAt(0));
      u8.set(b.subarray(parentAt, parentAt + 32), bytesAt(32));
      u8.set(b.subarray(bloomAt, bloomAt + 256), bytesAt(64));
      numbers[count++] = number;
      if (count === B) flush();
      return true;
    };
    /** The block `buf[from, to)`, at byte `offset` of the file. */
    const block = (buf: Uint8Array, from: number, to: number, offset: number): void => {
      let ok = false;
      try {
        ok = decode(buf, from, to);
      } catch {
        // a malformed field: the main thread's decoder names it
      }
      if (ok) return;
      flush();
      post({ type: 'block', offset, bytes: buf.slice(from, to), position: offset + to - from });
    };
    // Splits the stream into top-level items as readRlpItems does (same checks, same messages).
    let buf: Uint8Array = new Uint8Array(0);
    let pos = 0;
    let base = start;
    position = start;
    let need = 0;
    const waiting: Uint8Array[] = [];
    let waitingBytes = 0;
    for await (const chunk of fs.createReadStream(data.path, { highWaterMark: data.chunkBytes, start })) {
      waiting.push(chunk as Buffer);
      waitingBytes += chunk.length;
      if (buf.length - pos + waitingBytes < need) continue;
      base += pos;
      if (pos === buf.length && waiting.length === 1) buf = waiting[0]!;
      else buf = Bytes.concat([buf.subarray(pos), ...waiting]);
      pos = 0;
      waiting.length = 0;
      waitingBytes = 0;
      for (;;) {
        let more: boolean;
        try {
          more = prefix(buf, pos);
        } catch (err) {
          throw new FormatError(`RLP at byte ${base + pos}: ${(err as Error).message}`);
        }
        if (!more) {
          need = buf.length - pos + 1;
          break;
        }
        if (!isList) throw new FormatError(`RLP at byte ${base + pos}: top-level item is not a list`);
        const total = prefixLength + payloadLength;
        if (pos + total > buf.length) {
          need = total;
          break;
        }
        position = base + pos + total;
        block(buf, pos, pos + total, base + pos);
        pos += total;
        need = 0;
      }
      await waitCredit();
    }
    const left = buf.length - pos + waitingBytes;
    if (left > 0)
      throw new FormatError(
        `RLP truncated: ${left} trailing bytes at byte ${base + pos} do not form an item`,
      );
  }

  (data.kind === 'rlp' ? rlp() : ndjson()).then(
    () => {
      flush();
      port.postMessage({ type: 'done' });
      port.close(); // nothing left to do: the thread ends
    },
    (err: Error & { code?: unknown }) => {
      flush();
      const code = typeof err.code === 'string' ? err.code : undefined;
      port.postMessage({ type: 'error', message: err.message, code, format: err instanceof FormatError });
    },
  );
}

/**
 * The worker's script: its program applied to the scanner factory (both from their source text)
 * and to the eval script's own `require` (CommonJS: it resolves from the working directory).
 */
const workerSource = `(${headerWorkerMain.toString()})(${headerFieldScanner.toString()}, require)`;

/** hash-wasm's entry file where this module system can tell (CommonJS); else undefined. */
function hashWasmPath(): string | undefined {
  try {
    return typeof require === 'function' ? require.resolve('hash-wasm') : undefined;
  } catch {
    return undefined;
  }
}

/** Whether to read `path` on a worker: as asked, else for a file of {@link WORKER_MIN_BYTES} or more. */
export async function useWorker(path: string, asked: boolean | undefined): Promise<boolean> {
  if (asked !== undefined) return asked;
  try {
    return (await stat(path)).size >= WORKER_MIN_BYTES;
  } catch {
    return false; // the main-thread reader reports the error as it always has
  }
}

/** How the main thread reads what the worker could not, and names errors, for one kind of file. */
export interface WorkerReader {
  kind: 'ndjson' | 'rlp';
  path: string;
  /** An NDJSON line the worker left to the main thread: its header, or undefined (blank). @throws SourceError */
  line?: (lineNumber: number, bytes: Uint8Array) => BlockHeader | undefined;
  /** An RLP block the worker left to the main thread: its header. @throws SourceError */
  block?: (offset: number, bytes: Uint8Array) => BlockHeader;
  onRead?: ((position: number) => void) | undefined;
  /**
   * RLP: reads the file from its start on the main thread while the worker starts (~50-100 ms
   * of a quick run otherwise lost), until `ready()` turns true at a block boundary; resolves the
   * byte there, for the worker to go on from, or undefined once it read the whole file (or was
   * aborted). @throws SourceError as the main-thread reader
   */
  head?: (
    emit: (header: BlockHeader) => void,
    signal: AbortSignal,
    ready: () => boolean,
  ) => Promise<number | undefined>;
}

/**
 * Reads a header file on a worker thread and emits its headers in file order, as the
 * main-thread readers would: same headers (DecodedHeaders over the worker's batches), same
 * SourceErrors. Resolves `false` when the worker cannot run the format's code (the caller
 * then reads on the main thread), `true` when done. Aborting `signal` terminates the worker;
 * the promise settles only after it has stopped.
 */
export async function readOnWorker(
  reader: WorkerReader,
  emit: (header: BlockHeader) => void,
  signal: AbortSignal,
): Promise<boolean> {
  const { path } = reader;
  if (signal.aborted) throw signal.reason;
  const data: WorkerData = {
    kind: reader.kind,
    path,
    ...layout,
    batchBytes,
    window: WINDOW,
    chunkBytes: CHUNK_BYTES,
    hashWasm: reader.kind === 'rlp' ? hashWasmPath() : undefined,
    handOver: reader.head !== undefined,
  };
  // execArgv: [] keeps the parent's preloads (a TypeScript loader, say) out of this plain-JS worker.
  const worker = new Worker(workerSource, { eval: true, workerData: data, execArgv: [] });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  let onAbort: (() => void) | undefined;
  let ready = false;
  let done = false;
  /** True once the outcome is known: messages still arriving (before the worker stops) are dropped. */
  let over = false;
  const settled = new Promise<boolean>((resolve, reject) => {
    const end = (ok: boolean) => {
      over = true;
      resolve(ok);
    };
    const fail = (err: unknown) => {
      over = true;
      reject(err);
    };
    onAbort = () => fail(signal.reason);
    signal.addEventListener('abort', onAbort);
    worker.on('error', (err) => fail(new SourceError(`${path}: ${err.message}`, false, { cause: err })));
    worker.on('exit', (code) =>
      fail(new SourceError(`${path}: the reading thread stopped early (exit code ${code})`)),
    );
    worker.on('message', (message: WorkerMessage) => {
      if (over) return;
      try {
        if (message.type === 'ready') ready = true;
        else if (message.type === 'done') end(true);
        else if (message.type === 'unavailable') end(false);
        else if (message.type === 'error') fail(workerError(path, message));
        else {
          handle(reader, message, emit, signal);
          if (!signal.aborted) {
            worker.postMessage(1);
            reader.onRead?.(message.position);
          }
        }
      } catch (err) {
        fail(err);
      }
    });
  });
  settled.catch(() => {}); // awaited below, unless the head reads the whole file
  try {
    if (reader.head) {
      const start = await reader.head(emit, signal, () => ready);
      if (signal.aborted) throw signal.reason;
      if (start === undefined) return true; // the head read it all (or the worker could not start)
      worker.postMessage({ start });
    }
    done = await settled;
    return done;
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
    // After 'done' the worker ends by itself; otherwise (error, unsubscribe) it is stopped.
    if (!done) await worker.terminate();
    await exited;
  }
}

/** Emits the headers of one message (stops early once `signal` is aborted). */
function handle(
  reader: WorkerReader,
  message: Extract<WorkerMessage, { position: number }>,
  emit: (header: BlockHeader) => void,
  signal: AbortSignal,
): void {
  if (message.type === 'line') {
    const header = reader.line!(message.line, message.bytes);
    if (header !== undefined) emit(header);
    return;
  }
  if (message.type === 'block') {
    emit(reader.block!(message.offset, message.bytes));
    return;
  }
  const { buffer, count } = message;
  const numbers = new Float64Array(buffer, 0, count);
  const bytes = Buffer.from(buffer);
  for (let i = 0; i < count && !signal.aborted; i++) {
    const b = layout.bytesAt + i * BYTES_PER_HEADER;
    emit(
      new DecodedHeader(
        numbers[i]!,
        `0x${bytes.toString('hex', b, b + 32)}`,
        `0x${bytes.toString('hex', b + 32, b + 64)}`,
        `0x${bytes.toString('hex', b + 64, b + BYTES_PER_HEADER)}`,
        {
          hash: new Uint8Array(buffer, b, 32),
          parentHash: new Uint8Array(buffer, b + 32, 32),
          bloom: new Uint8Array(buffer, b + 64, 256),
        },
      ),
    );
  }
}

/** The SourceError for an error the worker reported, worded as the main-thread readers word it. */
function workerError(path: string, message: Extract<WorkerMessage, { type: 'error' }>): SourceError {
  const cause: Error & { code?: string } = message.format
    ? new SourceError(message.message)
    : new Error(message.message);
  if (message.code !== undefined) cause.code = message.code;
  return new SourceError(`${path}: ${message.message}`, false, { cause });
}
