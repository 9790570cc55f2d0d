import { allocBytes } from './alloc.js';

/**
 * A fresh copy of the first `length` bytes of `bytes` as a plain Uint8Array.
 * Unlike `bytes.slice()` this really copies Node Buffers too (Buffer#slice is
 * a view), which matters because level backends hand out Buffers that alias
 * their stored values.
 */
export function copyBytes(bytes: Uint8Array, length = bytes.length): Uint8Array {
  const out = allocBytes(length);
  out.set(length === bytes.length ? bytes : bytes.subarray(0, length));
  return out;
}
