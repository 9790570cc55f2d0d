/**
 * Typed errors. Every error the library raises on purpose is a {@link BloomBitsError},
 * so callers can tell "bad input / bad data" from bugs with one `instanceof`, and tell
 * the kinds apart by a stable string `code` (as Node's `err.code` and abstract-level's
 * `LEVEL_*` codes) that survives minification, bundling and duplicate package copies.
 */

/**
 * The stable `code` of each error class (one per class, never reused, never changed):
 *
 * | code               | class                  |
 * | ------------------ | ---------------------- |
 * | `BLOOMBITS`        | {@link BloomBitsError} (the base, not raised by the library itself) |
 * | `INVALID_HEX`      | {@link InvalidHexError} |
 * | `INVALID_FILTER`   | {@link InvalidFilterError} |
 * | `INVALID_RANGE`    | {@link InvalidRangeError} |
 * | `DECOMPRESS`       | {@link DecompressError} (why: its `reason`) |
 * | `GENERATOR`        | {@link GeneratorError} |
 * | `MISSING_SECTION`  | {@link MissingSectionError} |
 * | `CORRUPT_DATA`     | {@link CorruptDataError} |
 * | `DATABASE_CLOSED`  | {@link DatabaseClosedError} |
 * | `RETRIEVAL_FAILED` | {@link RetrievalError} |
 * | `CHAIN`            | {@link ChainError} |
 * | `SOURCE`           | {@link SourceError} |
 * | `JSON_RPC`         | `JsonRpcError` (a SourceError; the node's numeric code: its `rpcCode`) |
 * | `INVALID_BLOOM`    | {@link InvalidBloomError} |
 * | `STORE`            | {@link StoreError} |
 * | `INVALID_OPTION`   | {@link InvalidOptionError} |
 * | `INDEX_BUSY`       | {@link IndexBusyError} |
 * | `BEYOND_HEAD`      | {@link BeyondHeadError} |
 * | `CLI`              | `CliError` (the command-line tool) |
 */
export type BloomBitsErrorCode =
  | 'BLOOMBITS'
  | 'INVALID_HEX'
  | 'INVALID_FILTER'
  | 'INVALID_RANGE'
  | 'DECOMPRESS'
  | 'GENERATOR'
  | 'MISSING_SECTION'
  | 'CORRUPT_DATA'
  | 'DATABASE_CLOSED'
  | 'RETRIEVAL_FAILED'
  | 'CHAIN'
  | 'SOURCE'
  | 'JSON_RPC'
  | 'INVALID_BLOOM'
  | 'STORE'
  | 'INVALID_OPTION'
  | 'INDEX_BUSY'
  | 'BEYOND_HEAD'
  | 'CLI'
  | 'BLOCK_NOT_FOUND';

/**
 * Base class of every error rx-bloombits raises on purpose.
 *
 * @example
 * ```ts
 * index.logs(filter).subscribe({
 *   error: (err) => {
 *     if (err instanceof BloomBitsError && err.code === 'INVALID_FILTER') showUsage(err.message);
 *     else throw err;
 *   },
 * });
 * ```
 */
export class BloomBitsError extends Error {
  /** The stable code of this class; each subclass declares its own (see {@link BloomBitsErrorCode}). */
  static readonly code: BloomBitsErrorCode = 'BLOOMBITS';
  override name = 'BloomBitsError';
  /** Stable, documented kind of the error (the class's static `code`): compare this, not messages. */
  readonly code: BloomBitsErrorCode;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    // new.target is the class actually constructed, so every subclass gets its own code.
    this.code = (new.target as typeof BloomBitsError).code;
  }
}

/** A hex string that is not `0x`-prefixed, has odd length, bad digits or the wrong byte length. */
export class InvalidHexError extends BloomBitsError {
  static override readonly code: BloomBitsErrorCode = 'INVALID_HEX';
  override name = 'InvalidHexError';
  constructor(
    message: string,
    readonly value: unknown,
  ) {
    super(message);
  }
}

/** A log filter that cannot be compiled: wrong-length address or topic, too many topic positions, bad shape. */
export class InvalidFilterError extends BloomBitsError {
  static override readonly code: BloomBitsErrorCode = 'INVALID_FILTER';
  override name = 'InvalidFilterError';
}

/** A block range or block number that is reversed, negative, non-integer, or not a known tag. */
export class InvalidRangeError extends BloomBitsError {
  static override readonly code: BloomBitsErrorCode = 'INVALID_RANGE';
  override name = 'InvalidRangeError';
}

/** Why a compressed bit vector could not be decoded (go-ethereum bitutil's four failure cases). */
export type DecompressErrorReason = 'missingData' | 'exceededTarget' | 'zeroContent' | 'unreferencedData';

/** A compressed bit vector that does not decode to the requested length; `reason` says why. */
export class DecompressError extends BloomBitsError {
  static override readonly code: BloomBitsErrorCode = 'DECOMPRESS';
  override name = 'DecompressError';
  constructor(
    readonly reason: DecompressErrorReason,
    message?: string,
  ) {
    super(message ?? `decompress failed: ${reason}`);
  }
}

/** Misuse of a {@link BloomBitsGenerator}: bad section size, out-of-order add, bad bloom, early read, bad bit. */
export class GeneratorError extends BloomBitsError {
  static override readonly code: BloomBitsErrorCode = 'GENERATOR';
  override name = 'GeneratorError';
}

/** A stored vector or section head that is absent. */
export class MissingSectionError extends BloomBitsError {
  static override readonly code: BloomBitsErrorCode = 'MISSING_SECTION';
  override name = 'MissingSectionError';
  constructor(
    message: string,
    readonly section: number,
    readonly bit?: number,
  ) {
    super(message);
  }
}

/** A stored value that does not decode (bad compression, wrong length, bad metadata). */
export class CorruptDataError extends BloomBitsError {
  static override readonly code: BloomBitsErrorCode = 'CORRUPT_DATA';
  override name = 'CorruptDataError';
  constructor(
    message: string,
    readonly details: { bit?: number; section?: number; key?: string } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The injected database is closed (or closing). */
export class DatabaseClosedError extends BloomBitsError {
  static override readonly code: BloomBitsErrorCode = 'DATABASE_CLOSED';
  override name = 'DatabaseClosedError';
}

/** A retriever failed: the query ends with this, naming the bit and sections of the failed task. */
export class RetrievalError extends BloomBitsError {
  static override readonly code: BloomBitsErrorCode = 'RETRIEVAL_FAILED';
  override name = 'RetrievalError';
  constructor(
    readonly bit: number,
    readonly sections: readonly number[],
    override readonly cause: unknown,
  ) {
    super(
      `retrieval of bit ${bit} for sections [${sections.join(', ')}] failed: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}

/** Headers that do not form a chain (gap, wrong parent, bad field) where a chain is required. */
export class ChainError extends BloomBitsError {
  static override readonly code: BloomBitsErrorCode = 'CHAIN';
  override name = 'ChainError';
}

/** A data source (JSON-RPC endpoint or file) failed or returned malformed data. */
export class SourceError extends BloomBitsError {
  static override readonly code: BloomBitsErrorCode = 'SOURCE';
  override name = 'SourceError';
  constructor(
    message: string,
    readonly transient = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A logsBloom that is not exactly 256 bytes, or a bloom bit index outside 0..2047. */
export class InvalidBloomError extends BloomBitsError {
  static override readonly code: BloomBitsErrorCode = 'INVALID_BLOOM';
  override name = 'InvalidBloomError';
}

/** Misuse of a {@link BloomBitsStore}: non-append write, wrong vector/hash length, mismatched section size. */
export class StoreError extends BloomBitsError {
  static override readonly code: BloomBitsErrorCode = 'STORE';
  override name = 'StoreError';
}

/** An option with a value it cannot take (a non-positive worker count, a negative timeout, ...). Names the option. */
export class InvalidOptionError extends BloomBitsError {
  static override readonly code: BloomBitsErrorCode = 'INVALID_OPTION';
  override name = 'InvalidOptionError';
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`${option}: ${message}`);
  }
}

/** Another writer (an `indexHeaders` run in this process, or another process) holds the index. */
export class IndexBusyError extends BloomBitsError {
  static override readonly code: BloomBitsErrorCode = 'INDEX_BUSY';
  override name = 'IndexBusyError';
}

/** A query asked for blocks past what is indexed, with nothing indexing them (no clamp was asked for). */
export class BeyondHeadError extends BloomBitsError {
  static override readonly code: BloomBitsErrorCode = 'BEYOND_HEAD';
  override name = 'BeyondHeadError';
  constructor(
    message: string,
    /** Highest block indexed (committed or tail); -1 when empty. */
    readonly head: number,
    readonly requested: number,
  ) {
    super(message);
  }
}

/**
 * The node does not have the block asked for: no block at that height, or (asked by hash) another
 * block there. Usually a reorg the index has not seen yet; `watch` waits for it.
 */
export class BlockNotFoundError extends SourceError {
  static override readonly code: BloomBitsErrorCode = 'BLOCK_NOT_FOUND';
  override name = 'BlockNotFoundError';
  constructor(
    message: string,
    readonly block: number,
    readonly hash: string | undefined,
  ) {
    super(message);
  }
}
