export { compressBytes, encodeSparseBytes } from './compress.js';
export { copyBytes } from './copy.js';
export { decodeSparseBytes, decompressBytes } from './decompress.js';
export { andBytes, andInto, anySet, orAndInto, orBytes, orInto } from './ops.js';
