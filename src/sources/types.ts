import type { Observable } from 'rxjs';
import type { Log } from '../types/chain.js';
import type { Hex } from '../types/hex.js';

/**
 * Where the exact filter gets a block's logs: all logs of the block, in log-index order,
 * as one array (empty when the block has none). `hash`, when given, pins the block
 * (sources check it or query by it, so a reorged block is not silently mixed in).
 */
export type LogsSource = (block: { number: number; hash?: Hex }) => Observable<Log[]>;
