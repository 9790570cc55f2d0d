/**
 * Throughput of the foundation pieces:
 * compress/decompress of 512-byte vectors at three bit densities, and the
 * generator on sparse and ~30%-byte-density blooms.
 * Run: npx ts-node --transpile-only bench/foundation.ts
 */

import { prng as rng } from '../spec/helpers/prng.js';
import { compressBytes, decompressBytes } from '../src/bitutil/index.js';
import { BloomBitsGenerator } from '../src/generator/index.js';

/** Runs `fn` repeatedly for about `ms` milliseconds (after a warm-up) and returns calls per second. */
function rate(fn: (i: number) => void, ms = 1000): number {
  for (let i = 0; i < 2000; i++) fn(i);
  let calls = 0;
  const start = process.hrtime.bigint();
  const limit = BigInt(ms) * 1_000_000n;
  let elapsed = 0n;
  while (elapsed < limit) {
    for (let i = 0; i < 1000; i++) fn(calls++);
    elapsed = process.hrtime.bigint() - start;
  }
  return calls / (Number(elapsed) / 1e9);
}

const fmt = (n: number) => `${Math.round(n).toLocaleString('en-US')}`.padStart(12);

function benchCompression(): void {
  const rand = rng(42);
  for (const density of [0.001, 0.1, 0.5]) {
    const vectors = Array.from({ length: 256 }, () => {
      const v = new Uint8Array(512);
      for (let b = 0; b < 4096; b++) if (rand() < density) v[b >> 3]! |= 0x80 >> (b & 7);
      return v;
    });
    const compressed = vectors.map(compressBytes);
    const avg = compressed.reduce((n, c) => n + c.length, 0) / compressed.length;
    let sink = 0;
    const c = rate((i) => {
      sink += compressBytes(vectors[i & 255]!).length;
    });
    const d = rate((i) => {
      sink += decompressBytes(compressed[i & 255]!, 512)[0]!;
    });
    console.log(
      `512-byte vectors, ${(density * 100).toString().padStart(4)}% bits (avg ${avg.toFixed(0).padStart(3)} B): ` +
        `compress ${fmt(c)} /s  decompress ${fmt(d)} /s${sink < 0 ? '' : ''}`,
    );
  }
}

function benchGenerator(): void {
  const rand = rng(7);
  const sparse = Array.from({ length: 4096 }, () => {
    const b = new Uint8Array(256);
    const bits = Math.floor(rand() * 4) * 3; // 0..3 keys per block
    for (let k = 0; k < bits; k++) {
      const v = Math.floor(rand() * 2048);
      b[255 - (v >> 3)]! |= 1 << (v & 7);
    }
    return b;
  });
  const dense = Array.from({ length: 4096 }, () => {
    const b = new Uint8Array(256);
    for (let j = 0; j < 256; j++) if (rand() < 0.3) b[j] = 1 + Math.floor(rand() * 255);
    return b;
  });
  for (const [name, blooms] of [
    ['sparse blooms (0-9 bits)', sparse],
    ['30% byte density', dense],
  ] as const) {
    const sections = 20;
    for (let w = 0; w < 3; w++) runSection(blooms);
    const start = process.hrtime.bigint();
    for (let s = 0; s < sections; s++) runSection(blooms);
    const secs = Number(process.hrtime.bigint() - start) / 1e9;
    console.log(`generator, ${name}: ${fmt((sections * 4096) / secs)} headers/s`);
  }
}

function runSection(blooms: readonly Uint8Array[]): void {
  const gen = new BloomBitsGenerator(4096);
  for (let o = 0; o < 4096; o++) gen.addBloom(o, blooms[o]!);
  gen.vectors();
}

console.log(`node ${process.version}`);
benchCompression();
benchGenerator();
