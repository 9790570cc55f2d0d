import { prng } from '../../spec/helpers/prng.js';
import { compileFilter, eventTopic, type Hex, type LogFilter, padAddress } from '../../src/index.js';

/** The four query shapes of the go-ethereum comparison (issue 12). */
export type ShapeName = 'a' | 'b' | 'c' | 'd';

export interface Shape {
  name: ShapeName;
  /** What it looks like to a user. */
  label: string;
  filter: LogFilter;
  /** compileFilter(filter): group → clause → 3 bloom bits. */
  groups: number[][][];
}

/** Seeded hex strings of `bytes` bytes, so every run queries the same keys. */
function hexes(seed: number, count: number, bytes: number): Hex[] {
  const random = prng(seed);
  return Array.from({ length: count }, () => {
    let s = '0x';
    for (let i = 0; i < bytes; i++)
      s += Math.floor(random() * 256)
        .toString(16)
        .padStart(2, '0');
    return s as Hex;
  });
}

export const TRANSFER = eventTopic('Transfer(address,address,uint256)');
const ADDRESSES = hexes(1001, 10, 20);
const TOPICS = hexes(1002, 3, 32);

const filters: Record<ShapeName, [string, LogFilter]> = {
  a: ['1 key (3 bits)', { topics: [TRANSFER] }],
  b: ['address + topic0', { address: ADDRESSES[0]!, topics: [TRANSFER] }],
  c: ['10 addresses (1 group of 10 clauses)', { address: ADDRESSES }],
  d: ['4 topic positions', { topics: [TRANSFER, padAddress(ADDRESSES[1]!), TOPICS[0]!, TOPICS[1]!] }],
};

export const SHAPES: readonly Shape[] = (Object.keys(filters) as ShapeName[]).map((name) => {
  const [label, filter] = filters[name];
  return { name, label, filter, groups: compileFilter(filter) };
});

/** Every bloom bit some shape reads, ascending (the vectors a random-vector store must hold). */
export function queriedBits(): number[] {
  return [...new Set(SHAPES.flatMap((s) => s.groups.flat(2)))].sort((x, y) => x - y);
}
