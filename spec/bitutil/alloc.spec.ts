import { compressBytes, decompressBytes } from '../../src/bitutil/index.js';

describe('pooled results', () => {
  test('many results are zero-initialised, 8-byte aligned and never overlap', () => {
    const vector = new Uint8Array(512);
    vector[3] = 0x10;
    const compressed = compressBytes(vector);
    const outs = Array.from({ length: 200 }, () => decompressBytes(compressed, 512));
    outs.forEach((o, i) => {
      expect(o.byteOffset % 8).toBe(0);
      expect(o).toEqual(vector);
      o.fill(i & 0xff); // writing one result ...
    });
    // ... never shows through another.
    outs.forEach((o, i) => {
      expect(o.every((b) => b === (i & 0xff))).toBe(true);
    });
    expect(decompressBytes(compressed, 512)).toEqual(vector);
  });
});
