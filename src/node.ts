/**
 * rx-bloombits/node: everything of `rx-bloombits`, plus the sources that read
 * local files (they use node:fs, node:zlib and node:stream, so the main entry,
 * which must bundle for browsers, leaves them out).
 */
export * from './index.js';
export { ndjsonHeaders } from './sources/ndjsonHeaders.js';
export { ndjsonLogs } from './sources/ndjsonLogs.js';
export { rlpFileHeaders } from './sources/rlpFileHeaders.js';
export type { FileSourceOptions } from './sources/types.js';
