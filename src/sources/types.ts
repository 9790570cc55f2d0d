import type { Observable } from 'rxjs';
import type { Log } from '../types/chain.js';
import type { Hex } from '../types/hex.js';

/**
 * Where the exact filter gets a block's logs: all logs of the block, in log-index order,
 * as one array (empty when the block has none). `hash`, when given, pins the block
 * (sources check it or query by it, so a reorged block is not silently mixed in).
 */
export type LogsSource = (block: { number: number; hash?: Hex }) => Observable<Log[]>;

/** Options of the file sources (`ndjsonHeaders`, `rlpFileHeaders`). */
export interface FileSourceOptions {
  /** Told the bytes of the file read so far (for progress). */
  onRead?: (position: number) => void;
  /**
   * Read (and scan, decode, hash) on a worker thread, so the main thread only builds the
   * headers. Same headers, same errors either way. Each source documents its default.
   */
  worker?: boolean;
}
