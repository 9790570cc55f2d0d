export { CHECKSUM_LENGTH, sectionChecksum } from './checksum.js';
export type {
  BloomBitsDbBatchOp,
  BloomBitsDbIterator,
  BloomBitsDbRangeOptions,
  BloomBitsDbReadOptions,
  BloomBitsDbSnapshot,
} from './db.js';
export {
  CHECKSUM_FROM_KEY,
  COUNT_KEY,
  decodeUint64,
  encodeUint64,
  SECTION_SIZE_KEY,
  sectionChecksumKey,
  sectionHeadKey,
  VECTOR_KEY_LENGTH,
  vectorKey,
  vectorRange,
} from './keys.js';
export {
  type BloomBitsDb,
  BloomBitsStore,
  type BloomBitsStoreOptions,
  type LevelBatchOp,
  type RollbackOptions,
} from './store.js';
export { type VerifyOptions, type VerifyProblem, type VerifyReport, verifyStore } from './verify.js';
