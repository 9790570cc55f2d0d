export { BloomBitsGenerator } from './generator.js';
