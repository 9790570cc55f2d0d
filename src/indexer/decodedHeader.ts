import type { BlockHeader } from '../types/chain.js';
import type { Hex } from '../types/hex.js';

/** The binary fields of a header, as the indexer stores them. */
export interface HeaderBytes {
  readonly hash: Uint8Array;
  readonly parentHash: Uint8Array;
  readonly bloom: Uint8Array;
}

/**
 * A {@link BlockHeader} made by a source that read the fields as bytes (an RLP export, the fast
 * NDJSON scanner): it also carries those bytes, so the indexer does not decode the hex strings
 * again. To everything else it is a plain, frozen header: the bytes live in a private field
 * (invisible to JSON, spread and deep equality), and both forms are made from the same input.
 */
export class DecodedHeader implements BlockHeader {
  readonly number: number;
  readonly hash: Hex;
  readonly parentHash: Hex;
  readonly logsBloom: Hex;
  readonly #bytes: HeaderBytes;

  /** `hash`, `parentHash`, `logsBloom` must be the lowercase hex of `bytes` (callers make both from one input). */
  constructor(number: number, hash: Hex, parentHash: Hex, logsBloom: Hex, bytes: HeaderBytes) {
    this.number = number;
    this.hash = hash;
    this.parentHash = parentHash;
    this.logsBloom = logsBloom;
    this.#bytes = bytes;
    Object.freeze(this);
  }

  /** The bytes of a header made by a binary source, else undefined (decode its hex). */
  static bytesOf(header: BlockHeader): HeaderBytes | undefined {
    return #bytes in header ? header.#bytes : undefined;
  }
}
