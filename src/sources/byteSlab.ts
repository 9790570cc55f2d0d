import { Buffer } from 'node:buffer';

/** Bytes per slab: 204 headers' worth of hash, parentHash and bloom. */
const SLAB_BYTES = 64 * 1024;
let slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
let used = 0;

/**
 * `length` fresh bytes (contents unspecified) carved from a shared slab, as a Buffer view.
 * Decoded header fields are kept by the thousand in the tail: one 64 KiB ArrayBuffer per ~200
 * headers instead of three allocations each (the 256-byte bloom's off-heap buffer made the
 * garbage collector the largest single cost of indexing). A view keeps its slab alive.
 */
export function takeBytes(length: number): Buffer {
  if (used + length > SLAB_BYTES) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    used = 0;
  }
  const out = slab.subarray(used, used + length);
  used += length;
  return out;
}
