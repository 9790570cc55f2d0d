/**
 * Synthetic header chains for indexer tests: deterministic (seeded) blooms built from a small pool
 * of addresses and topics, keccak hashes that depend on the parent, the bloom and a fork label,
 * parent links; plus a brute-force matcher over header blooms and a db dump for store comparisons.
 */
import { keccak_256 } from '@noble/hashes/sha3';
import { MemoryLevel } from 'memory-level';
import { lastValueFrom, type Observable, toArray } from 'rxjs';
import { bloomIndexes, bloomTestBits, createBloom } from '../../src/bloom/index.js';
import type { BloomIndex, HeaderSource } from '../../src/bloomIndex.js';
import type { BloomBitsDb } from '../../src/store/db.js';
import type { BlockHeader, Log, LogFilter } from '../../src/types/chain.js';
import { bytesToHex, type Hex, hexToBytes } from '../../src/types/hex.js';

import { prng } from '../helpers/prng.js';

export { prng };

const word = (label: string, bytes: number): Hex =>
  bytesToHex(keccak_256(new TextEncoder().encode(label)).slice(0, bytes));

/** Addresses and topics that synthetic logs use (so filters over them do hit). */
export const ADDRESSES: Hex[] = Array.from({ length: 8 }, (_, i) => word(`address-${i}`, 20));
export const TOPICS: Hex[] = Array.from({ length: 12 }, (_, i) => word(`topic-${i}`, 32));
/** Never used by any synthetic log. */
export const UNUSED_ADDRESS: Hex = word('unused', 20);

const ZERO_HASH: Hex = `0x${'00'.repeat(32)}`;

/**
 * Headers `from … length-1`: the first `from` come from `base` (a fork point), the rest are new,
 * generated with `seed` (a different seed gives a different branch). About 30% of blocks have logs.
 */
export function makeChain(
  length: number,
  seed: number,
  base: readonly BlockHeader[] = [],
  from = 0,
): BlockHeader[] {
  const rand = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const out = base.slice(0, from);
  for (let n = from; n < length; n++) {
    const logs = [];
    if (rand() < 0.3) {
      const count = 1 + Math.floor(rand() * 3);
      for (let i = 0; i < count; i++) {
        const topics = Array.from({ length: Math.floor(rand() * 5) }, () => pick(TOPICS));
        logs.push({ address: pick(ADDRESSES), topics });
      }
    }
    const bloom = createBloom(logs);
    const parentHash = n === 0 ? ZERO_HASH : out[n - 1]!.hash;
    const pre = new Uint8Array(32 + 256 + 12);
    pre.set(hexToBytes(parentHash), 0);
    pre.set(bloom, 32);
    new DataView(pre.buffer).setUint32(288, n);
    new DataView(pre.buffer).setUint32(292, seed);
    new DataView(pre.buffer).setFloat32(296, rand());
    out.push({ number: n, hash: bytesToHex(keccak_256(pre)), parentHash, logsBloom: bytesToHex(bloom) });
  }
  return out;
}

/** A copy of `header` with one field replaced. */
export const withField = (header: BlockHeader, field: Partial<BlockHeader>): BlockHeader => ({
  ...header,
  ...field,
});

const asList = <T>(x: T | readonly T[] | null | undefined): readonly T[] | null =>
  x === null || x === undefined ? null : Array.isArray(x) ? (x as readonly T[]) : [x as T];

const blooms = new WeakMap<BlockHeader, Uint8Array>();
function bloomOf(header: BlockHeader): Uint8Array {
  let bloom = blooms.get(header);
  if (bloom === undefined) {
    bloom = hexToBytes(header.logsBloom);
    blooms.set(header, bloom);
  }
  return bloom;
}

/** Blocks of `headers` in [from, to] whose bloom passes `filter` (the oracle of `match`). */
export function bruteMatch(
  headers: readonly BlockHeader[],
  filter: LogFilter,
  from: number,
  to: number,
): number[] {
  const groups: number[][][] = [];
  const addresses = asList(filter.address);
  if (addresses) groups.push(addresses.map((a) => bloomIndexes(hexToBytes(a))));
  for (const position of filter.topics ?? []) {
    const list = asList(position);
    if (list) groups.push(list.map((t) => bloomIndexes(hexToBytes(t as Hex))));
  }
  const out: number[] = [];
  for (let n = from; n <= Math.min(to, headers.length - 1); n++) {
    const bloom = bloomOf(headers[n]!);
    if (groups.every((g) => g.some((bits) => bloomTestBits(bloom, bits)))) out.push(n);
  }
  return out;
}

/** Every key/value of a db as hex pairs, in key order. */
export async function dumpDb(db: Pick<BloomBitsDb, 'iterator'>): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for await (const [k, v] of db.iterator({ keyEncoding: 'view', valueEncoding: 'view' })) {
    out.push([Buffer.from(k as Uint8Array).toString('hex'), Buffer.from(v as Uint8Array).toString('hex')]);
  }
  return out;
}

/** Headers as NDJSON (JSON-RPC style: hex number). */
export function toNdjson(headers: readonly BlockHeader[]): string {
  return headers.map((h) => JSON.stringify({ ...h, number: `0x${h.number.toString(16)}` })).join('\n') + '\n';
}

/**
 * A long chain, cheap to build: hashes are the block number (and `seed`) in hex, every 7th block's
 * bloom holds ADDRESSES[0] (by `filter`: `{ address: ADDRESSES[0] }`), the rest are empty. For
 * stack-safety and throughput tests over millions of headers.
 */
export function cheapChain(length: number, seed = 0): BlockHeader[] {
  const hashOf = (n: number): Hex =>
    `0x${seed.toString(16).padStart(8, '0')}${n.toString(16).padStart(56, '0')}` as Hex;
  const hit = bytesToHex(createBloom([{ address: ADDRESSES[0]!, topics: [] }]));
  const empty: Hex = `0x${'00'.repeat(256)}`;
  const out: BlockHeader[] = new Array(length);
  for (let n = 0; n < length; n++) {
    out[n] = {
      number: n,
      hash: hashOf(n),
      parentHash: n === 0 ? ZERO_HASH : hashOf(n - 1),
      logsBloom: n % 7 === 3 ? hit : empty,
    };
  }
  return out;
}

/** A factory of fresh binary memory-level dbs; `closeAll` (also run after each test of the calling file) closes them. */
export interface MemoryDbs {
  (): MemoryLevel<Uint8Array, Uint8Array>;
  closeAll(): Promise<void>;
}

export function memoryDbs(): MemoryDbs {
  const dbs: MemoryLevel<Uint8Array, Uint8Array>[] = [];
  const closeAll = async (): Promise<void> => {
    await Promise.all(dbs.splice(0).map((db) => db.close()));
  };
  afterEach(closeAll);
  const newDb = (): MemoryLevel<Uint8Array, Uint8Array> => {
    const db = new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: 'view', valueEncoding: 'view' });
    dbs.push(db);
    return db;
  };
  return Object.assign(newDb, { closeAll });
}

/** Every value of `o`, once it completes. */
export const all = <T>(o: Observable<T>): Promise<T[]> => lastValueFrom(o.pipe(toArray()));

/** Runs `indexHeaders` to completion; the last progress, if any. */
export const run = (index: BloomIndex, source: HeaderSource, allowDeepReorg = false) =>
  lastValueFrom(index.indexHeaders(source, { allowDeepReorg }), { defaultValue: undefined });

/** A log of block `number` (hash as given, zero hash otherwise) with every other field fixed. */
export const syntheticLog = (
  number: number,
  hash: Hex | undefined,
  address: Hex,
  topics: Hex[] = [],
): Log => ({
  address,
  topics,
  data: '0x',
  blockNumber: `0x${number.toString(16)}` as Hex,
  blockHash: hash ?? `0x${'00'.repeat(32)}`,
  transactionHash: `0x${'00'.repeat(32)}`,
  transactionIndex: '0x0',
  logIndex: '0x0',
  removed: false,
});
