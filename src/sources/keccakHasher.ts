import { keccak_256 } from '@noble/hashes/sha3';
import { createKeccak } from 'hash-wasm';

/** A synchronous Keccak-256 (Ethereum's hash, not SHA3-256): 32 bytes of `data`. */
export type Keccak256 = (data: Uint8Array) => Uint8Array;

/** The portable Keccak-256 (pure JS). Fine for a few hashes; ~40 µs per 600-byte header. */
export const keccak256: Keccak256 = keccak_256;

/**
 * A Keccak-256 for hashing headers by the million (hash-wasm's WebAssembly build, ~2–3 µs per
 * 600-byte header against ~40 µs in pure JS). Its instance is created asynchronously once,
 * then hashes synchronously; each call returns a fresh array.
 * @example
 * const hash = await fastKeccak256();
 * hash(headerRlp); // 32 bytes
 */
export async function fastKeccak256(): Promise<Keccak256> {
  const hasher = await createKeccak(256);
  return (data) => {
    hasher.init();
    hasher.update(data);
    return hasher.digest('binary');
  };
}
