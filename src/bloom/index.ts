export {
  assertBloom,
  type BloomLog,
  bloomAdd,
  bloomTest,
  bloomTestBits,
  bloomTestGroups,
  createBloom,
} from './bloom.js';
export { bloomIndexes } from './keys.js';
