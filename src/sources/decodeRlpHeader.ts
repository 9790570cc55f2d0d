import { RLP } from '@ethereumjs/rlp';
import { keccak_256 } from '@noble/hashes/sha3';
import { BLOOM_BYTE_LENGTH, HASH_LENGTH } from '../constants.js';
import { SourceError } from '../errors.js';
import type { BlockHeader } from '../types/chain.js';
import { bytesToHex } from '../types/hex.js';
import { readRlpPrefix } from './rlpItems.js';

/** Fields of a pre-London header; later forks only append fields. */
export const MIN_HEADER_FIELDS = 15;
const PARENT_HASH = 0;
const LOGS_BLOOM = 6;
const NUMBER = 8;

/**
 * Reads the header of one RLP-encoded block (`[header, txs, uncles, (withdrawals)]`, as
 * `geth export` writes it). Only the header item is decoded; its hash is keccak256 of its
 * exact encoded bytes. Accepts every header variant (15 fields legacy .. 21 Prague, and longer).
 * @throws SourceError on malformed RLP or a header field of the wrong size.
 */
export function decodeRlpHeader(block: Uint8Array): BlockHeader {
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
  const parentHash = field(fields, PARENT_HASH, 'parentHash', HASH_LENGTH);
  const logsBloom = field(fields, LOGS_BLOOM, 'logsBloom', BLOOM_BYTE_LENGTH);
  const number = field(fields, NUMBER, 'number');
  if (number.length > 0 && number[0] === 0) throw new SourceError('header number has a leading zero byte');
  let n = 0;
  for (const b of number) n = n * 256 + b;
  if (!Number.isSafeInteger(n)) throw new SourceError('header number is beyond 2^53');

  return {
    number: n,
    hash: bytesToHex(keccak_256(headerBytes)),
    parentHash: bytesToHex(parentHash),
    logsBloom: bytesToHex(logsBloom),
  };
}

function field(fields: unknown[], index: number, name: string, length?: number): Uint8Array {
  const value = fields[index];
  if (!(value instanceof Uint8Array)) throw new SourceError(`header ${name} is not a byte string`);
  if (length !== undefined && value.length !== length) {
    throw new SourceError(`header ${name} has ${value.length} bytes; ${length} expected`);
  }
  return value;
}
