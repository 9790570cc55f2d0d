/**
 * A hand-assembled "event emitter" contract for tests and sample data.
 *
 * Calldata is a sequence of records, one log each, executed in order:
 *
 *     n (1 byte, 0..4) ‖ n × topic (32 bytes each) ‖ dataLen (2 bytes, big-endian) ‖ data (dataLen bytes)
 *
 * Record k runs `LOG<n>` with the given topics and data, so one call emits as many logs as it has
 * records, each with its own topic count. Empty calldata emits nothing; n > 4 reverts.
 * The contract keeps no state and accepts no value checks (plain transfers with data are fine).
 */
import { bytesToHex, type Hex, hexToBytes } from '../../src/types/hex.js';

/** One log to emit: 0..4 topics (32 bytes each) and optional data (≤ 65535 bytes). */
export interface EmitLog {
  topics: readonly Hex[];
  data?: Hex;
}

// --- a tiny two-pass assembler: opcodes by name, numeric pushes, labels as PUSH2 -------------

const OPCODES: Record<string, number> = {
  STOP: 0x00,
  ADD: 0x01,
  LT: 0x10,
  EQ: 0x14,
  ISZERO: 0x15,
  SHL: 0x1b,
  SHR: 0x1c,
  CALLDATALOAD: 0x35,
  CALLDATASIZE: 0x36,
  CALLDATACOPY: 0x37,
  CODECOPY: 0x39,
  POP: 0x50,
  JUMP: 0x56,
  JUMPI: 0x57,
  JUMPDEST: 0x5b,
  RETURN: 0xf3,
  REVERT: 0xfd,
};
const PUSH1 = 0x60;
const DUP1 = 0x80;
const SWAP1 = 0x90;
const LOG0 = 0xa0;

type Item =
  | string // opcode name, DUPn, SWAPn, LOGn
  | { push: number; size?: number } // PUSH<size> of a constant
  | { label: string } // JUMPDEST here (emits the JUMPDEST byte)
  | { ref: string }; // PUSH2 <address of label>

function opcode(name: string): number {
  const known = OPCODES[name];
  if (known !== undefined) return known;
  const m = /^(DUP|SWAP|LOG)(\d+)$/.exec(name);
  if (m) {
    const k = Number(m[2]);
    if (m[1] === 'DUP' && k >= 1 && k <= 16) return DUP1 + k - 1;
    if (m[1] === 'SWAP' && k >= 1 && k <= 16) return SWAP1 + k - 1;
    if (m[1] === 'LOG' && k >= 0 && k <= 4) return LOG0 + k;
  }
  throw new Error(`unknown opcode ${name}`);
}

function itemSize(it: Item): number {
  if (typeof it === 'string') return 1;
  if ('push' in it) return 1 + (it.size ?? 1);
  if ('label' in it) return 1;
  return 3;
}

function assemble(items: readonly Item[]): Uint8Array {
  const labels = new Map<string, number>();
  let pc = 0;
  for (const it of items) {
    if (typeof it === 'object' && 'label' in it) {
      if (labels.has(it.label)) throw new Error(`duplicate label ${it.label}`);
      labels.set(it.label, pc);
    }
    pc += itemSize(it);
  }
  const out: number[] = [];
  const pushN = (value: number, size: number) => {
    if (value < 0 || value >= 2 ** (8 * size))
      throw new Error(`push value ${value} does not fit ${size} bytes`);
    out.push(PUSH1 + size - 1);
    for (let i = size - 1; i >= 0; i--) out.push(Math.floor(value / 2 ** (8 * i)) & 0xff);
  };
  for (const it of items) {
    if (typeof it === 'string') out.push(opcode(it));
    else if ('push' in it) pushN(it.push, it.size ?? 1);
    else if ('label' in it) out.push(OPCODES.JUMPDEST!);
    else {
      const at = labels.get(it.ref);
      if (at === undefined) throw new Error(`undefined label ${it.ref}`);
      pushN(at, 2);
    }
  }
  return Uint8Array.from(out);
}

const p = (push: number, size = 1): Item => ({ push, size });

/** The branch for LOG<k>: entered with stack [next, t, len, n], leaves [next] and loops. */
function logBranch(k: number): Item[] {
  const items: Item[] = [{ label: `log${k}` }, 'POP']; // [next, t, len]
  // push topics k-1 .. 0 so topic 0 ends up just under (len, offset)
  for (let i = k - 1; i >= 0; i--) {
    const depthOfT = k - 1 - i + 2; // t sits under len and the topics pushed so far
    items.push(`DUP${depthOfT}`);
    if (i > 0) items.push(p(32 * i), 'ADD');
    items.push('CALLDATALOAD');
  }
  items.push(`DUP${k + 1}`, p(0), `LOG${k}`); // LOGk(offset 0, size len, topic0..)
  items.push('POP', 'POP', { ref: 'loop' }, 'JUMP'); // [next]
  return items;
}

/** Runtime: loops over records, copying each record's data to memory 0 and logging it. */
const RUNTIME_ITEMS: Item[] = [
  p(0), // [p]
  { label: 'loop' },
  'CALLDATASIZE',
  'DUP2',
  'LT', // p < calldatasize
  { ref: 'body' },
  'JUMPI',
  'STOP',
  { label: 'body' }, // [p]
  'DUP1',
  'CALLDATALOAD',
  p(248),
  'SHR', // [p, n]
  'SWAP1',
  p(1),
  'ADD', // [n, t]          t = p + 1: first topic
  'DUP2',
  p(5),
  'SHL',
  'DUP2',
  'ADD', // [n, t, q]       q = t + 32n: dataLen
  'DUP1',
  'CALLDATALOAD',
  p(240),
  'SHR', // [n, t, q, len]
  'SWAP1',
  p(2),
  'ADD', // [n, t, len, off]
  'DUP2',
  'DUP2',
  p(0),
  'CALLDATACOPY', // memory[0..len] = calldata[off..off+len]
  'DUP2',
  'ADD', // [n, t, len, next]
  'SWAP3', // [next, t, len, n]
  'DUP1',
  'ISZERO',
  { ref: 'log0' },
  'JUMPI',
  ...[1, 2, 3, 4].flatMap((k): Item[] => ['DUP1', p(k), 'EQ', { ref: `log${k}` }, 'JUMPI']),
  p(0),
  'DUP1',
  'REVERT', // n > 4
  ...[0, 1, 2, 3, 4].flatMap(logBranch),
];

const RUNTIME = assemble(RUNTIME_ITEMS);

/** Init code: CODECOPY the runtime (appended after these 13 bytes) to memory 0 and RETURN it. */
function initCode(runtime: Uint8Array): Uint8Array {
  const INIT_LEN = 13;
  const head = assemble([
    p(runtime.length, 2),
    'DUP1',
    p(INIT_LEN, 2),
    p(0),
    'CODECOPY', // CODECOPY(dest 0, offset INIT_LEN, size len)
    p(0),
    'RETURN', // RETURN(0, len)
  ]);
  if (head.length !== INIT_LEN) throw new Error(`init code is ${head.length} bytes, expected ${INIT_LEN}`);
  const out = new Uint8Array(head.length + runtime.length);
  out.set(head, 0);
  out.set(runtime, head.length);
  return out;
}

/** Deployed bytecode of the emitter (what `eth_getCode` returns). */
export const emitterRuntimeCode: Hex = bytesToHex(RUNTIME);

/** Contract-creation code: send as `data` of a transaction without `to`. */
export const emitterInitCode: Hex = bytesToHex(initCode(RUNTIME));

/**
 * Calldata for the emitter that emits `logs` in order, one record per log.
 * @throws Error on more than 4 topics, a topic that isn't 32 bytes, or data over 65535 bytes.
 */
export function encodeEmitCall(logs: readonly EmitLog[]): Hex {
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const [i, log] of logs.entries()) {
    if (log.topics.length > 4) throw new Error(`log ${i}: ${log.topics.length} topics (max 4)`);
    const data = hexToBytes(log.data ?? '0x');
    if (data.length > 0xffff) throw new Error(`log ${i}: ${data.length} bytes of data (max 65535)`);
    const rec = new Uint8Array(1 + 32 * log.topics.length + 2 + data.length);
    rec[0] = log.topics.length;
    log.topics.forEach((topic, j) => {
      rec.set(hexToBytes(topic, 32), 1 + 32 * j);
    });
    const q = 1 + 32 * log.topics.length;
    rec[q] = data.length >> 8;
    rec[q + 1] = data.length & 0xff;
    rec.set(data, q + 2);
    parts.push(rec);
    total += rec.length;
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const part of parts) {
    out.set(part, o);
    o += part.length;
  }
  return bytesToHex(out);
}
