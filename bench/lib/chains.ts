import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';
import { RLP } from '@ethereumjs/rlp';
import { keccak_256 } from '@noble/hashes/sha3';
import { ClassicLevel } from 'classic-level';
import { prng } from '../../spec/helpers/prng.js';
import {
  bloomIndexes,
  bytesToHex,
  encodeUint64,
  eventTopic,
  type Hex,
  hexToBytes,
  type LogFilter,
} from '../../src/index.js';
import { cached } from './dataDir.js';
import { TRANSFER } from './shapes.js';
import { type Db, SECTION_SIZE, VIEW } from './vectorStore.js';

/** Keys (addresses and topics) per block on average. */
export const CHAIN_DENSITIES = { sparse: 20, medium: 200, saturated: 1000 } as const;
export type ChainDensity = keyof typeof CHAIN_DENSITIES;

/** Blocks on top of the last section so that the indexer (256 confirmations by default) commits it. */
export const CONFIRMATIONS = 256;

const APPROVAL = eventTopic('Approval(address,address,uint256)');
const SWAP = eventTopic('Swap(address,uint256,uint256,uint256,uint256,address)');
/** Popular token contracts, most popular first. */
const TOKENS: Hex[] = Array.from(
  { length: 5 },
  (_, i) => `0x${'ab'.repeat(19)}${(i + 1).toString(16).padStart(2, '0')}`,
) as Hex[];
/** A token seen in about one block in 1,000: what the naive-scan figure looks for. */
export const RARE_TOKEN: Hex = `0x${'5e'.repeat(20)}`;
export const RARE_FILTER: LogFilter = { address: RARE_TOKEN, topics: [TRANSFER] };

const bitsOf = (hex: Hex) => bloomIndexes(hexToBytes(hex));
const TOKEN_BITS = TOKENS.map(bitsOf);
const RARE_BITS = bitsOf(RARE_TOKEN);
const TRANSFER_BITS = bitsOf(TRANSFER);
const APPROVAL_BITS = bitsOf(APPROVAL);
const SWAP_BITS = bitsOf(SWAP);

function setBit(bloom: Uint8Array, v: number): void {
  bloom[255 - (v >> 3)]! |= 1 << (v & 7);
}
function setKey(bloom: Uint8Array, bits: readonly number[]): void {
  for (const v of bits) setBit(bloom, v);
}

/**
 * A block's bloom with `keys` keys on average: logs of an address and 1–3 topics; the address
 * is a popular token 40% of the time (Zipf-like), topic0 is Transfer 50%, Approval 10%, Swap 10%;
 * every other key is fresh (three uniform bits, as keccak gives). The rare token's Transfer
 * comes in one block in 1,000.
 */
export function makeBloom(random: () => number, keys: number): Uint8Array {
  const bloom = new Uint8Array(256);
  const target = Math.round(random() * 2 * keys);
  for (let k = 0; k < target; ) {
    const r = random();
    if (r < 0.4) setKey(bloom, TOKEN_BITS[Math.min(4, Math.floor(-Math.log(1 - random()) * 1.2))]!);
    else for (let i = 0; i < 3; i++) setBit(bloom, Math.floor(random() * 2048));
    const t = random();
    if (t < 0.5) setKey(bloom, TRANSFER_BITS);
    else if (t < 0.6) setKey(bloom, APPROVAL_BITS);
    else if (t < 0.7) setKey(bloom, SWAP_BITS);
    else for (let i = 0; i < 3; i++) setBit(bloom, Math.floor(random() * 2048));
    const more = Math.floor(random() * 3);
    for (let j = 0; j < more * 3; j++) setBit(bloom, Math.floor(random() * 2048));
    k += 2 + more;
  }
  if (random() < 0.001) {
    setKey(bloom, RARE_BITS);
    setKey(bloom, TRANSFER_BITS);
  }
  return bloom;
}

/** Minimal big-endian bytes of a non-negative integer (RLP's integer encoding). */
function quantity(n: number): Uint8Array {
  const out: number[] = [];
  for (let x = n; x > 0; x = Math.floor(x / 256)) out.unshift(x % 256);
  return Uint8Array.from(out);
}

export interface Chain {
  /** Gzipped NDJSON of JSON-RPC block objects (the shape of examples/data/sample-headers.ndjson.gz). */
  ndjson: string;
  /** The same chain as a `geth export` RLP file. */
  rlp: string;
  /** The same blooms in a classic-level db, uint64 BE block number → 256-byte bloom: a node without the index. */
  blooms: string;
  /** Blocks in the chain (`sections` × 4096 + 256 confirmations). */
  blocks: number;
  sections: number;
}

const ZERO32: Uint8Array = new Uint8Array(32);

/**
 * A realistic header chain of `sections` sections plus {@link CONFIRMATIONS} blocks, written
 * three ways. Hashes are keccak of each header's RLP (15 pre-London fields), so parent links
 * hold in both files. Seeded by density and length.
 */
export function chain(density: ChainDensity, sections: number): Promise<Chain> {
  const blocks = sections * SECTION_SIZE + CONFIRMATIONS;
  const name = `chain-${density}-${sections}`;
  return cached(name, async (dir) => {
    const random = prng(CHAIN_DENSITIES[density] * 7919 + sections);
    const gzip = createGzip({ level: 6 });
    const ndjsonOut = gzip.pipe(createWriteStream(join(dir, 'headers.ndjson.gz')));
    const rlpOut = createWriteStream(join(dir, 'chain.rlp'));
    const db: Db = new ClassicLevel(join(dir, 'blooms'), VIEW);
    await db.open();
    let parent = ZERO32;
    let lines: string[] = [];
    let rlps: Uint8Array[] = [];
    let batch = db.batch();
    const flush = async () => {
      if (!gzip.write(lines.join(''))) await once(gzip, 'drain');
      if (!rlpOut.write(Buffer.concat(rlps))) await once(rlpOut, 'drain');
      await batch.write();
      lines = [];
      rlps = [];
      batch = db.batch();
    };
    for (let n = 0; n < blocks; n++) {
      const bloom = makeBloom(random, CHAIN_DENSITIES[density]);
      const timestamp = 1_700_000_000 + n * 12;
      const header = [
        parent,
        ZERO32, // uncles hash
        new Uint8Array(20), // coinbase
        ZERO32, // state root
        ZERO32, // transactions root
        ZERO32, // receipts root
        bloom,
        quantity(1), // difficulty
        quantity(n),
        quantity(30_000_000),
        quantity(15_000_000),
        quantity(timestamp),
        new Uint8Array(0), // extra data
        ZERO32, // mix hash
        new Uint8Array(8), // nonce
      ];
      const headerRlp = RLP.encode(header);
      const hash = keccak_256(headerRlp);
      rlps.push(RLP.encode([header, [], []]));
      lines.push(
        `${JSON.stringify({
          number: `0x${n.toString(16)}`,
          hash: bytesToHex(hash),
          parentHash: bytesToHex(parent),
          logsBloom: bytesToHex(bloom),
          timestamp: `0x${timestamp.toString(16)}`,
        })}\n`,
      );
      batch.put(encodeUint64(n), bloom);
      parent = hash;
      if (lines.length === 1024) await flush();
    }
    await flush();
    gzip.end();
    rlpOut.end();
    await Promise.all([once(ndjsonOut, 'finish'), once(rlpOut, 'finish')]);
    await db.close();
  }).then((dir) => ({
    ndjson: join(dir, 'headers.ndjson.gz'),
    rlp: join(dir, 'chain.rlp'),
    blooms: join(dir, 'blooms'),
    blocks,
    sections,
  }));
}
