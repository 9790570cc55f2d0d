export { assertBloom, type BloomLog, bloomAdd, bloomTest, bloomTestBits, createBloom } from './bloom.js';
export { bloomIndexes } from './keys.js';
