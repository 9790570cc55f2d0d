import { Buffer } from 'node:buffer';
import { RLP } from '@ethereumjs/rlp';
import { BLOOM_BYTE_LENGTH, HASH_LENGTH } from '../constants.js';
import { SourceError } from '../errors.js';
import { DecodedHeader } from '../indexer/decodedHeader.js';
import type { BlockHeader } from '../types/chain.js';
import type { Hex } from '../types/hex.js';
import { takeBytes } from './byteSlab.js';
import { type Keccak256, keccak256 } from './keccakHasher.js';
import { readRlpPrefix } from './rlpItems.js';

/** Fields of a pre-London header; later forks only append fields. */
export const MIN_HEADER_FIELDS = 15;
const PARENT_HASH = 0;
const LOGS_BLOOM = 6;
const NUMBER = 8;

/**
 * Reads the header of one RLP-encoded block (`[header, txs, uncles, (withdrawals)]`, as
 * `geth export` writes it). Only the header item is decoded (its fields walked in place, no
 * copies but the two kept); its hash is keccak256 of its exact encoded bytes. Accepts every
 * header variant (15 fields legacy .. 21 Prague, and longer).
 * `hash` computes the header hash (default: pure-JS Keccak-256; pass {@link fastKeccak256}'s
 * for many headers).
 * @throws SourceError on malformed RLP or a header field of the wrong size.
 */
export function decodeRlpHeader(block: Uint8Array, hash: Keccak256 = keccak256): BlockHeader {
  const outer = readRlpPrefix(block, 0);
  if (outer === null || !outer.list || outer.prefixLength + outer.payloadLength !== block.length) {
    throw new SourceError('block is not a single RLP list');
  }
  const start = outer.prefixLength;
  const inner = readRlpPrefix(block, start);
  if (inner === null || !inner.list) throw new SourceError('block does not start with a header list');
  const end = start + inner.prefixLength + inner.payloadLength;
  if (end > block.length) throw new SourceError('header list runs past the end of the block');
  const headerBytes = block.subarray(start, end);
  const at = fieldsAt(block, start + inner.prefixLength, end);
  if (at === undefined) return decodeWithRlp(headerBytes, hash);
  if (at.length / 2 < MIN_HEADER_FIELDS) {
    throw new SourceError(`header has ${at.length / 2} fields; at least 15 expected`);
  }
  return toHeader(
    block.subarray(at[2 * NUMBER]!, at[2 * NUMBER + 1]!),
    copy(block.subarray(at[2 * PARENT_HASH]!, at[2 * PARENT_HASH + 1]!)),
    copy(block.subarray(at[2 * LOGS_BLOOM]!, at[2 * LOGS_BLOOM + 1]!)),
    headerBytes,
    hash,
  );
}

/**
 * Payload bounds of the header's fields, `[start0, end0, start1, end1, ...]`, walking the
 * list `block[pos, end)` with the same canonical-form checks as a full RLP decode; undefined
 * when a field is itself a list (never in a real header: left to the full decoder).
 * @throws SourceError on malformed RLP.
 */
function fieldsAt(block: Uint8Array, pos: number, end: number): number[] | undefined {
  const at: number[] = [];
  while (pos < end) {
    const prefix = readRlpPrefix(block, pos);
    if (prefix === null) throw new SourceError('invalid header RLP: a field runs past the header');
    if (prefix.list) return undefined;
    const from = pos + prefix.prefixLength;
    const to = from + prefix.payloadLength;
    if (to > end) throw new SourceError('invalid header RLP: a field runs past the header');
    if (prefix.prefixLength === 1 && prefix.payloadLength === 1 && block[from]! < 0x80) {
      throw new SourceError('invalid header RLP: a single byte below 0x80 must not be prefixed');
    }
    at.push(from, to);
    pos = to;
  }
  return at;
}

/** The header from its three fields; `hash` is keccak256 of the encoded header. */
function toHeader(
  number: Uint8Array,
  parentHash: Uint8Array,
  logsBloom: Uint8Array,
  headerBytes: Uint8Array,
  keccak: Keccak256,
): BlockHeader {
  if (parentHash.length !== HASH_LENGTH) {
    throw new SourceError(`header parentHash has ${parentHash.length} bytes; ${HASH_LENGTH} expected`);
  }
  if (logsBloom.length !== BLOOM_BYTE_LENGTH) {
    throw new SourceError(`header logsBloom has ${logsBloom.length} bytes; ${BLOOM_BYTE_LENGTH} expected`);
  }
  if (number.length > 0 && number[0] === 0) throw new SourceError('header number has a leading zero byte');
  let n = 0;
  for (const b of number) n = n * 256 + b;
  if (!Number.isSafeInteger(n)) throw new SourceError('header number is beyond 2^53');
  const hash = keccak(headerBytes);
  return new DecodedHeader(n, hex(hash), hex(parentHash), hex(logsBloom), {
    hash,
    parentHash,
    bloom: logsBloom,
  });
}

/** The slow path for a header with a nested list field: a full RLP decode. */
function decodeWithRlp(headerBytes: Uint8Array, hash: Keccak256): BlockHeader {
  let fields: unknown;
  try {
    fields = RLP.decode(headerBytes);
  } catch (err) {
    throw new SourceError(`invalid header RLP: ${(err as Error).message}`, false, { cause: err });
  }
  if (!Array.isArray(fields) || fields.length < MIN_HEADER_FIELDS) {
    throw new SourceError(
      `header has ${Array.isArray(fields) ? fields.length : 0} fields; at least 15 expected`,
    );
  }
  return toHeader(
    field(fields, NUMBER, 'number'),
    field(fields, PARENT_HASH, 'parentHash'),
    field(fields, LOGS_BLOOM, 'logsBloom'),
    headerBytes,
    hash,
  );
}

function field(fields: unknown[], index: number, name: string): Uint8Array {
  const value = fields[index];
  if (!(value instanceof Uint8Array)) throw new SourceError(`header ${name} is not a byte string`);
  return value;
}

/** A copy of a field (the block's bytes are a view into the read buffer), from a shared slab. */
function copy(field: Uint8Array): Uint8Array {
  const out = takeBytes(field.length);
  out.set(field);
  return out;
}

const hex = (bytes: Uint8Array): Hex =>
  `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex')}`;
