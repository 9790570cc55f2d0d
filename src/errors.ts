/**
 * Typed errors. Every error the library raises on purpose is a {@link BloomBitsError},
 * so callers can tell "bad input / bad data" from bugs with one `instanceof`.
 */

/** Base class of every error rx-bloombits raises on purpose. */
export class BloomBitsError extends Error {
  override name = 'BloomBitsError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A hex string that is not `0x`-prefixed, has odd length, bad digits or the wrong byte length. */
export class InvalidHexError extends BloomBitsError {
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
  override name = 'InvalidFilterError';
}

/** A block range or block number that is reversed, negative, non-integer, or not a known tag. */
export class InvalidRangeError extends BloomBitsError {
  override name = 'InvalidRangeError';
}

/** Why a compressed bit vector could not be decoded (go-ethereum bitutil's four failure cases). */
export type DecompressErrorCode = 'missingData' | 'exceededTarget' | 'zeroContent' | 'unreferencedData';

/** A compressed bit vector that does not decode to the requested length. */
export class DecompressError extends BloomBitsError {
  override name = 'DecompressError';
  constructor(
    readonly code: DecompressErrorCode,
    message?: string,
  ) {
    super(message ?? `decompress failed: ${code}`);
  }
}

/** Misuse of a {@link BloomBitsGenerator}: bad section size, out-of-order add, bad bloom, early read, bad bit. */
export class GeneratorError extends BloomBitsError {
  override name = 'GeneratorError';
}

/** A stored vector or section head that is absent. */
export class MissingSectionError extends BloomBitsError {
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
  override name = 'DatabaseClosedError';
}

/** A retriever failed: the query ends with this, naming the bit and sections of the failed task. */
export class RetrievalError extends BloomBitsError {
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
  override name = 'ChainError';
}

/** A data source (JSON-RPC endpoint or file) failed or returned malformed data. */
export class SourceError extends BloomBitsError {
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
  override name = 'InvalidBloomError';
}

/** Misuse of a {@link BloomBitsStore}: non-append write, wrong vector/hash length, mismatched section size. */
export class StoreError extends BloomBitsError {
  override name = 'StoreError';
}

/** An option with a value it cannot take (a non-positive worker count, a negative timeout, ...). Names the option. */
export class InvalidOptionError extends BloomBitsError {
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
  override name = 'IndexBusyError';
}

/** A query asked for blocks past what is indexed, with nothing indexing them (no clamp was asked for). */
export class BeyondHeadError extends BloomBitsError {
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
