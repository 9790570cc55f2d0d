import { keccak_256 } from '@noble/hashes/sha3';

/**
 * The three bloom bit indexes (0..2047) of a log address or topic:
 * h = keccak256(key), v_i = ((h[2i] << 8) | h[2i+1]) & 2047 for i = 0, 1, 2.
 * These are also the bit-vector numbers the matcher fetches for that key.
 */
export function bloomIndexes(key: Uint8Array): [number, number, number] {
  const h = keccak_256(key);
  return [((h[0]! << 8) | h[1]!) & 2047, ((h[2]! << 8) | h[3]!) & 2047, ((h[4]! << 8) | h[5]!) & 2047];
}
