import { from, Observable, type ObservableInput, type Subscription, takeWhile } from 'rxjs';
import { BLOOM_BYTE_LENGTH, HASH_LENGTH } from '../constants.js';
import { ChainError } from '../errors.js';
import { Fifo } from '../operators/fifo.js';
import type { BlockHeader } from '../types/chain.js';
import { DecodedHeader } from './decodedHeader.js';
import { hashAt, headOf, type IndexSnapshot, knownAtOrBelow, sameHash, tailStartOf } from './snapshot.js';
import type { IndexHeadersOptions, IndexProgress } from './types.js';

/** Headers to index: an Observable, or a factory that can restart from a lower block after a reorg. */
export type HeaderSource =
  | ObservableInput<BlockHeader>
  | ((fromBlock: number) => ObservableInput<BlockHeader>);

/** A header with its fields decoded (and the original, for `heads$`). */
export interface ParsedHeader {
  readonly number: number;
  readonly hash: Uint8Array;
  readonly parentHash: Uint8Array;
  readonly bloom: Uint8Array;
  readonly raw: BlockHeader;
}

/** What the ingest loop drives: the index's writer side. */
export interface IngestTarget {
  /** The current state. */
  snapshot(): IndexSnapshot;
  /** Appends the next header to the tail (synchronously) and publishes it. */
  accept(header: ParsedHeader): void;
  /**
   * The write the last accept made due, if any. `idle`: the source has paused, so
   * this is a good moment to write the tail (a source running ahead would have
   * most of it committed, and deleted, soon).
   */
  due(idle: boolean): 'commit' | 'flush' | undefined;
  commit(): Promise<void>;
  flush(): Promise<void>;
  /** Drops every block at or above `block` (whole sections when `block` is below the tail). */
  rollback(block: number): Promise<void>;
}

/** One async write between two headers; headers arriving meanwhile queue up. */
interface Effect {
  run: () => Promise<void>;
  /** Headers to handle again once the effect is done (a reorg's replay). */
  replay?: readonly ParsedHeader[];
  /** Resubscribe the (factory) source from this block once done. */
  restart?: number;
  /** Emit progress once done. */
  progress?: boolean;
  /**
   * A commit: headers that extend the head plainly (no reorg, no write due) are
   * accepted while it is in flight, instead of queueing up.
   */
  background?: boolean;
}

const nothing = async (): Promise<void> => undefined;

/**
 * How long the source must deliver nothing before the tail is written. A queue that is merely
 * empty between two headers is no pause: a file or a fast node delivers headers one by one, and
 * writing the tail every 1024 of them (to delete it at the next commit) was most of the db work.
 */
export const PAUSE_MS = 250;

/**
 * The ingest loop of {@link BloomIndex.indexHeaders}: a reducer over headers
 * whose writes (flush, commit, rollback) are Promises run one at a time by an
 * explicit pump. Headers are handled in a plain loop and queue up while a write
 * is in flight, so neither synchronous nor asynchronous sources recurse, at
 * any length.
 *
 * Reorgs: headers below the index head are compared with the hashes the index
 * knows (tail blocks, section heads, block 0). The last match is the verified
 * point; headers after it that the index cannot compare (inside committed
 * sections) are kept until the next comparable block, so a mismatch there can
 * roll back to just above the verified point and replay them. Nothing is
 * rolled back before the fork point is established. When the source's first
 * header is already past the fork, a factory source is resubscribed from
 * exponentially lower known blocks (O(log depth) restarts); a plain source
 * fails with ChainError. So does a header that does not build on the source's
 * previous one (a live node reorganised between the two): a factory source is
 * asked again from lower down, a plain one fails with ChainError.
 *
 * `onSettled` runs once no write is in flight any more after the run ended
 * (completion, error or unsubscription).
 */
export function ingestHeaders(
  target: IngestTarget,
  source: HeaderSource,
  options: IndexHeadersOptions,
  onSettled: () => void,
): Observable<IndexProgress> {
  return new Observable<IndexProgress>((subscriber) => {
    const factory = typeof source === 'function';
    const size = target.snapshot().sectionSize;
    const started = Date.now();
    let accepted = 0;
    const progress = (): IndexProgress => {
      const s = target.snapshot();
      return {
        sections: s.count,
        blocks: accepted,
        headNumber: headOf(s),
        blocksPerSecond: accepted / Math.max(1e-3, (Date.now() - started) / 1000),
      };
    };

    const queue = new Fifo<ParsedHeader | BlockHeader>();
    let run = 0;
    let sourceSub: Subscription | undefined;
    let sourceDone = false;
    let busy = false;
    /** The write in flight lets plain headers through (see Effect.background). */
    let background = false;
    let pumping = false;
    /** No more headers are handled: finished, failed or unsubscribed. */
    let stopped = false;
    let settled = false;
    // Per source run: the previous header, the last one equal to the index, and the headers after it.
    let last: ParsedHeader | undefined;
    let verified: ParsedHeader | undefined;
    let buffer: ParsedHeader[] = [];
    /** The last header that did not build on the one before it from the same source. */
    let brokenAt: ParsedHeader | undefined;
    // Exponential walk back: distance from the anchor, lowest block asked for so far.
    let probe: { anchor: number; distance: number; lowest: number } | undefined;
    /** Headers received from the source (the pause timer checks that none came). */
    let arrivals = 0;
    let pauseTimer: ReturnType<typeof setTimeout> | undefined;

    /** Writes the tail once the source has paused for PAUSE_MS, if a flush is due by then. */
    const watchForPause = () => {
      if (pauseTimer !== undefined || stopped) return;
      const seen = arrivals;
      pauseTimer = setTimeout(() => {
        pauseTimer = undefined;
        if (stopped || target.due(true) !== 'flush') return;
        if (busy || arrivals !== seen) return watchForPause();
        start({ run: () => target.flush(), progress: true });
      }, PAUSE_MS);
    };
    const stopWatching = () => {
      if (pauseTimer !== undefined) clearTimeout(pauseTimer);
      pauseTimer = undefined;
    };

    const settle = () => {
      if (settled || busy || !stopped) return;
      settled = true;
      onSettled();
    };

    const resetRun = () => {
      last = undefined;
      verified = undefined;
      buffer = [];
    };

    const subscribeSource = (fromBlock: number) => {
      const id = ++run;
      sourceDone = false;
      queue.clear();
      resetRun();
      sourceSub?.unsubscribe();
      let input: ObservableInput<BlockHeader>;
      try {
        input = factory ? (source as (n: number) => ObservableInput<BlockHeader>)(fromBlock) : source;
        const sub = from(input)
          .pipe(takeWhile(() => id === run && !stopped))
          .subscribe({
            next: (header) => {
              arrivals++;
              queue.push(header);
              pump();
            },
            error: (e) => {
              if (id === run) fail(e);
            },
            complete: () => {
              if (id !== run) return;
              sourceDone = true;
              pump();
            },
          });
        if (id === run && !stopped) sourceSub = sub;
        else sub.unsubscribe();
      } catch (e) {
        fail(e);
      }
    };

    /** Ends with `error` once the write in flight (if any) is done, after flushing what was accepted. */
    const fail = (error: unknown) => {
      if (stopped) return;
      stopped = true;
      stopWatching();
      run++;
      sourceSub?.unsubscribe();
      const end = () => {
        busy = true;
        target
          .flush()
          .catch(() => undefined)
          .then(() => {
            busy = false;
            subscriber.error(error);
            settle();
          });
      };
      if (busy) pendingEnd = end;
      else end();
    };
    let pendingEnd: (() => void) | undefined;

    const finish = () => {
      stopped = true;
      stopWatching();
      busy = true;
      target.flush().then(
        () => {
          busy = false;
          subscriber.next(progress());
          subscriber.complete();
          settle();
        },
        (e) => {
          busy = false;
          subscriber.error(e);
          settle();
        },
      );
    };

    const start = (effect: Effect) => {
      busy = true;
      background = effect.background === true;
      effect.run().then(
        () => {
          busy = false;
          background = false;
          if (pendingEnd) return pendingEnd();
          if (stopped) return settle();
          if (effect.replay) queue.unshiftAll(effect.replay);
          if (effect.progress) subscriber.next(progress());
          if (stopped) return settle(); // unsubscribed from inside next
          if (effect.restart !== undefined) subscribeSource(effect.restart);
          // Headers accepted during a commit may have made the next one due.
          if (effect.background && target.due(false) === 'commit') return start(commitEffect());
          pump();
        },
        (e) => {
          busy = false;
          background = false;
          if (pendingEnd) return pendingEnd();
          if (stopped) return settle();
          fail(e);
        },
      );
    };

    const commitEffect = (): Effect => ({ run: () => target.commit(), progress: true, background: true });

    /** True when `h` extends the head plainly: handling it only appends it to the tail. */
    const plain = (h: ParsedHeader): boolean => {
      const snap = target.snapshot();
      return (
        last !== undefined &&
        h.number === last.number + 1 &&
        h.number === headOf(snap) + 1 &&
        sameHash(h.parentHash, last.hash) &&
        sameHash(hashAt(snap, h.number - 1), h.parentHash)
      );
    };

    const pump = () => {
      if (pumping || (busy && !background) || stopped) return;
      pumping = true;
      try {
        while (!stopped && (!busy || background)) {
          if (queue.length === 0) {
            if (sourceDone && !busy) finish();
            break;
          }
          const next = queue.shift();
          const h = isParsed(next) ? next : parseHeader(next);
          if (busy && !plain(h)) {
            queue.unshiftAll([h]); // waits for the commit in flight
            break;
          }
          const effect = handle(h);
          if (effect !== undefined) start(effect);
        }
      } catch (e) {
        fail(e);
      } finally {
        pumping = false;
      }
    };

    /** Handles one header; returns the write it calls for, if any. */
    const handle = (input: ParsedHeader | BlockHeader): Effect | undefined => {
      const h = isParsed(input) ? input : parseHeader(input);
      const snap = target.snapshot();
      const next = headOf(snap) + 1;
      const n = h.number;
      if (last !== undefined) {
        if (n !== last.number + 1) {
          throw new ChainError(`headers skip from block ${last.number + 1} to ${n}`);
        }
        if (!sameHash(h.parentHash, last.hash)) {
          // A live source saw the chain reorganise between two of its headers: `h` is compared
          // with the index afresh, and the fork is found as for a source's first header (a
          // factory is asked again from lower down). A plain source cannot be asked again.
          // The same break again after asking again: the source itself is inconsistent, no reorg.
          const again = brokenAt !== undefined && brokenAt.number === n && sameHash(brokenAt.hash, h.hash);
          if (!factory || again) {
            throw new ChainError(`block ${n} does not build on block ${n - 1} from the same source`);
          }
          brokenAt = h;
          resetRun();
        }
      }
      if (last === undefined && n > next) throw new ChainError(`headers skip from block ${next} to ${n}`);
      last = h;

      if (n === next) {
        if (n === 0) {
          if (snap.genesis !== undefined && !sameHash(snap.genesis, h.hash)) throw anotherChain();
        } else if (!sameHash(hashAt(snap, n - 1), h.parentHash)) {
          return lower(snap, h);
        }
        target.accept(h);
        accepted++;
        probe = undefined;
        verified = h;
        buffer = [];
        const due = target.due(false);
        if (due === undefined) {
          if (queue.length === 0 && target.due(true) === 'flush') watchForPause();
          return undefined;
        }
        return due === 'commit' ? commitEffect() : { run: () => target.flush(), progress: true };
      }

      // Below the head: compare with what the index knows.
      const known = hashAt(snap, n);
      if (known === undefined) {
        buffer.push(h);
        return undefined;
      }
      if (sameHash(known, h.hash)) {
        verified = h;
        buffer = [];
        return undefined;
      }
      if (verified !== undefined) return rollbackTo(snap, verified.number + 1, [verified, ...buffer, h]);
      const first = buffer[0] ?? h;
      if (first.number > 0 && sameHash(hashAt(snap, first.number - 1), first.parentHash)) {
        return rollbackTo(snap, first.number, [...buffer, h]);
      }
      return lower(snap, first);
    };

    /** The fork is at `fork` (the first differing block): roll back, then replay from the new head. */
    const rollbackTo = (snap: IndexSnapshot, fork: number, seen: readonly ParsedHeader[]): Effect => {
      const tailStart = tailStartOf(snap);
      if (fork < tailStart && options.allowDeepReorg !== true) {
        throw new ChainError(
          `reorg at block ${fork} would roll back committed sections ${Math.floor(fork / size)}..${snap.count - 1}; ` +
            'pass allowDeepReorg to allow it',
        );
      }
      const newNext = fork >= tailStart ? fork : Math.floor(fork / size) * size;
      const replay = seen.filter((x) => x.number >= newNext);
      if (replay[0]?.number !== newNext) {
        throw new ChainError(`cannot replay from block ${newNext} after a reorg at block ${fork}`);
      }
      resetRun();
      return { run: () => target.rollback(fork), replay };
    };

    /** The fork is below the lowest header seen: resubscribe lower (factory) or give up (plain). */
    const lower = (snap: IndexSnapshot, lowest: ParsedHeader): Effect => {
      if (lowest.number === 0) throw anotherChain();
      if (!factory) {
        throw new ChainError(
          `block ${lowest.number} does not build on the indexed chain and the fork is below the source's first header; ` +
            'pass a factory source or a source starting at or below the fork point',
        );
      }
      if (probe === undefined) probe = { anchor: lowest.number, distance: 1, lowest: lowest.number };
      if (probe.lowest === 0) throw anotherChain();
      probe.distance *= 2;
      const ceiling = Math.min(probe.lowest, lowest.number) - 1;
      const below = Math.min(probe.anchor - probe.distance, ceiling);
      let at = knownAtOrBelow(snap, Math.max(0, below));
      // Stepping from the tail into the committed sections: try the last section head first.
      const lastHead = tailStartOf(snap) - 1;
      if (at < lastHead && lastHead <= ceiling) at = lastHead;
      probe.lowest = at;
      run++; // stops the current source at its next emission
      return { run: nothing, restart: at };
    };

    subscribeSource(headOf(target.snapshot()) + 1);
    return () => {
      stopWatching();
      if (!stopped) {
        stopped = true;
        run++;
        sourceSub?.unsubscribe();
      }
      pendingEnd = undefined;
      settle();
    };
  });
}

function anotherChain(): ChainError {
  return new ChainError(
    'block 0 from the source differs from the indexed block 0: the source serves another chain',
  );
}

function isParsed(x: ParsedHeader | BlockHeader): x is ParsedHeader {
  return (x as ParsedHeader).raw !== undefined && (x as ParsedHeader).bloom instanceof Uint8Array;
}

/** Decodes a header's fields. @throws ChainError on a malformed header. */
export function parseHeader(header: BlockHeader): ParsedHeader {
  if (header === null || typeof header !== 'object') throw new ChainError('header must be an object');
  const { number } = header;
  if (!Number.isSafeInteger(number) || number < 0)
    throw new ChainError(`bad header number: ${String(number)}`);
  const bytes = DecodedHeader.bytesOf(header);
  if (bytes !== undefined)
    return { number, hash: bytes.hash, parentHash: bytes.parentHash, bloom: bytes.bloom, raw: header };
  return {
    number,
    hash: decodeField(header.hash, HASH_LENGTH, 'hash', number),
    parentHash: decodeField(header.parentHash, HASH_LENGTH, 'parentHash', number),
    bloom: decodeField(header.logsBloom, BLOOM_BYTE_LENGTH, 'logsBloom', number),
    raw: header,
  };
}

/** Value of a hex digit's char code, -1 for anything else. */
const NIBBLE = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) NIBBLE[48 + i] = i;
for (let i = 0; i < 6; i++) NIBBLE[65 + i] = NIBBLE[97 + i] = 10 + i;

/**
 * Decodes a header's `0x` hex field of exactly `length` bytes. A char-code loop:
 * headers are decoded by the million, and slicing per byte made garbage the main cost.
 * @throws ChainError naming the block and field.
 */
function decodeField(hex: unknown, length: number, field: string, block: number): Uint8Array {
  const bad = (why: string) => new ChainError(`bad header ${block}: ${field} ${why}`);
  if (typeof hex !== 'string' || hex.charCodeAt(0) !== 48 || (hex.charCodeAt(1) | 32) !== 120) {
    throw bad('is not a 0x-prefixed hex string');
  }
  if (hex.length !== 2 + 2 * length) throw bad(`must be ${length} bytes, got ${(hex.length - 2) / 2}`);
  const out = new Uint8Array(length);
  for (let i = 0, j = 2; i < length; i++, j += 2) {
    const hi = NIBBLE[hex.charCodeAt(j)] ?? -1;
    const lo = NIBBLE[hex.charCodeAt(j + 1)] ?? -1;
    if (hi < 0 || lo < 0) throw bad('has a non-hex digit');
    out[i] = (hi << 4) | lo;
  }
  return out;
}
