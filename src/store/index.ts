export {
  COUNT_KEY,
  decodeUint64,
  encodeUint64,
  SECTION_SIZE_KEY,
  sectionHeadKey,
  VECTOR_KEY_LENGTH,
  vectorKey,
  vectorRange,
} from './keys.js';
export { type BloomBitsDb, BloomBitsStore, type BloomBitsStoreOptions } from './store.js';
