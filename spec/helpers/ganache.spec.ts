import { keccak_256 } from '@noble/hashes/sha3';
import type { Log } from '../../src/types/chain.js';
import { bytesToHex, type Hex, hexToBytes } from '../../src/types/hex.js';
import { type EmitLog, emitterRuntimeCode, encodeEmitCall } from './emitter.js';
import { type Chain, padAddress, rpc, rpcBatch, startChain, uint256 } from './ganache.js';

const TRANSFER = bytesToHex(keccak_256(new TextEncoder().encode('Transfer(address,address,uint256)')));
const topic = (i: number): Hex => bytesToHex(keccak_256(new Uint8Array([i])));

/** bloom9 membership, written out independently of src/ (go-ethereum core/types/bloom9.go). */
function inBloom(bloomHex: Hex, key: Hex): boolean {
  const bloom = hexToBytes(bloomHex, 256);
  const h = keccak_256(hexToBytes(key));
  for (let i = 0; i < 3; i++) {
    const v = ((h[2 * i]! << 8) | h[2 * i + 1]!) & 2047;
    if ((bloom[255 - (v >> 3)]! & (1 << (v & 7))) === 0) return false;
  }
  return true;
}

const FIVE_LOGS: EmitLog[] = [
  { topics: [], data: '0xdeadbeef' },
  { topics: [topic(1)] },
  { topics: [TRANSFER, padAddress('0x00000000000000000000000000000000000000aa')], data: uint256(7) },
  { topics: [topic(3), topic(4), topic(5)], data: `0x${'ab'.repeat(33)}` },
  { topics: [topic(6), topic(7), topic(8), topic(9)], data: `0x${'01'.repeat(1000)}` },
];

describe('encodeEmitCall', () => {
  it('lays out records as n ‖ topics ‖ uint16 length ‖ data', () => {
    const t = topic(1);
    const hex = encodeEmitCall([{ topics: [t], data: '0x0102' }, { topics: [] }]);
    expect(hex).toBe(`0x01${t.slice(2)}00020102` + '000000');
    expect(encodeEmitCall([])).toBe('0x');
  });

  it('rejects more than 4 topics, short topics and oversized data', () => {
    expect(() => encodeEmitCall([{ topics: [topic(1), topic(2), topic(3), topic(4), topic(5)] }])).toThrow(
      /5 topics/,
    );
    expect(() => encodeEmitCall([{ topics: ['0x1234'] }])).toThrow();
    expect(() => encodeEmitCall([{ topics: [], data: `0x${'00'.repeat(0x10000)}` }])).toThrow(/65536 bytes/);
  });
});

describe('ganache harness', () => {
  let chain: Chain;
  let contract: Hex;

  beforeAll(async () => {
    chain = await startChain();
    contract = await chain.deploy();
  });
  afterAll(async () => {
    await chain.close();
  });

  it('listens on 127.0.0.1 and deploys the emitter runtime', async () => {
    expect(chain.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(chain.accounts).toHaveLength(10);
    expect(await rpc(chain.url, 'eth_getCode', [contract, 'latest'])).toBe(emitterRuntimeCode);
  });

  it('emits logs with 0..4 topics from one transaction, exactly as given', async () => {
    const before = await chain.blockNumber();
    const tx = await chain.emit(contract, FIVE_LOGS);
    const n = await chain.blockNumber();
    expect(n).toBe(before + 1);
    const logs = await chain.getLogs({ fromBlock: `0x${n.toString(16)}`, toBlock: `0x${n.toString(16)}` });
    expect(logs.map((l) => ({ topics: l.topics, data: l.data }))).toEqual(
      FIVE_LOGS.map((l) => ({ topics: l.topics, data: l.data ?? '0x' })),
    );
    for (const [i, log] of logs.entries()) {
      expect(log.address).toBe(contract);
      expect(log.transactionHash).toBe(tx);
      expect(Number(log.blockNumber)).toBe(n);
      expect(Number(log.logIndex)).toBe(i);
    }
    const block = await chain.getBlock(n);
    expect(block.logsBloom).not.toMatch(/^0x0*$/);
    for (const key of [contract, ...FIVE_LOGS.flatMap((l) => l.topics)])
      expect(inBloom(block.logsBloom, key)).toBe(true);
    expect(inBloom(block.logsBloom, topic(200))).toBe(false);
  });

  it('puts several transactions from several senders into one block', async () => {
    const other = await chain.deploy({ from: chain.accounts[1] });
    const mined = await chain.emitBlock([
      { contract, logs: [{ topics: [topic(10)] }, { topics: [] }] },
      { contract: other, logs: [{ topics: [topic(11), topic(12)], data: '0x01' }], from: chain.accounts[2] },
      { contract, logs: [{ topics: [topic(13), topic(14), topic(15), topic(16)] }], from: chain.accounts[3] },
    ]);
    expect(mined.txHashes).toHaveLength(3);
    expect(await chain.blockNumber()).toBe(mined.number);
    const logs = await chain.getLogs({ blockHash: mined.hash });
    expect(
      logs.map((l) => [l.address, l.topics.length, Number(l.transactionIndex), Number(l.logIndex)]),
    ).toEqual([
      [contract, 1, 0, 0],
      [contract, 0, 0, 1],
      [other, 2, 1, 2],
      [contract, 4, 2, 3],
    ]);
    // automine is back on: the next emit lands in the next block by itself
    await chain.emit(contract, [{ topics: [topic(17)] }]);
    expect(await chain.blockNumber()).toBe(mined.number + 1);
  });

  it('spreads emits over several blocks, separated by empty ones', async () => {
    const start = await chain.blockNumber();
    await chain.emit(contract, [{ topics: [topic(20)] }]);
    await chain.mine(5);
    await chain.emit(contract, [{ topics: [topic(20)], data: '0x02' }]);
    expect(await chain.blockNumber()).toBe(start + 7);
    const logs = await chain.getLogs({ fromBlock: `0x${(start + 1).toString(16)}`, topics: [topic(20)] });
    expect(logs.map((l) => [Number(l.blockNumber), l.data])).toEqual([
      [start + 1, '0x'],
      [start + 7, '0x02'],
    ]);
    const empty = await chain.getBlock(start + 3);
    expect(empty.logsBloom).toMatch(/^0x0{512}$/);
    expect(empty.transactions).toEqual([]);
  });

  it('answers over HTTP, batched too', async () => {
    const n = await chain.blockNumber();
    const [num, latest, bad] = await rpcBatch<unknown>(chain.url, [
      { method: 'eth_blockNumber' },
      { method: 'eth_getBlockByNumber', params: ['latest', false] },
      { method: 'eth_chainId' },
    ]);
    expect(Number(num)).toBe(n);
    expect(Number((latest as { number: Hex }).number)).toBe(n);
    expect(bad).toBe('0x539');
    await expect(rpc(chain.url, 'no_suchMethod')).rejects.toThrow(/no_suchMethod/);
  });

  it('reports a failed emit (5 topics reverts in the contract)', async () => {
    const five = `0x05${topic(1).slice(2).repeat(5)}0000` as Hex;
    const hash = await chain.request<Hex>('eth_sendTransaction', [
      { from: chain.accounts[0], to: contract, data: five, gas: '0x30000' },
    ]);
    const receipt = await chain.request<{ status: Hex; logs: Log[] }>('eth_getTransactionReceipt', [hash]);
    expect(receipt.status).toBe('0x0');
    expect(receipt.logs).toEqual([]);
  });

  it('snapshot + revert + different content = a different block at the same height (a reorg)', async () => {
    const base = await chain.blockNumber();
    const snap = await chain.snapshot();
    await chain.emit(contract, [{ topics: [topic(30)] }]);
    await chain.mine(2);
    const a = await chain.getBlock(base + 1);
    const aTip = await chain.getBlock(base + 3);

    await chain.revert(snap);
    expect(await chain.blockNumber()).toBe(base);
    await chain.emit(contract, [{ topics: [topic(31)] }]);
    await chain.mine(2);
    const b = await chain.getBlock(base + 1);
    const bTip = await chain.getBlock(base + 3);

    expect(b.parentHash).toBe(a.parentHash);
    expect(b.hash).not.toBe(a.hash);
    expect(bTip.hash).not.toBe(aTip.hash);
    expect(inBloom(b.logsBloom, topic(31))).toBe(true);
    expect(inBloom(b.logsBloom, topic(30))).toBe(false);
    expect(await chain.getLogs({ fromBlock: '0x0', topics: [topic(30)] })).toEqual([]);
  });
});

describe('manual mining', () => {
  it('holds transactions until mine(), and stamps blocks with given timestamps', async () => {
    const chain = await startChain({ automine: false });
    try {
      const contract = await chain.deploy({ timestamp: 1_704_067_300 });
      expect(await chain.blockNumber()).toBe(1);
      await chain.emit(contract, [{ topics: [topic(40)] }]);
      await chain.emit(contract, [{ topics: [topic(41)] }], chain.accounts[1]);
      expect(await chain.blockNumber()).toBe(1);
      await chain.mine(3, { timestamp: 1_704_067_400, spacing: 12 });
      const blocks = await Promise.all([2, 3, 4].map((n) => chain.getBlock(n)));
      expect(blocks.map((b) => Number(b.timestamp))).toEqual([1_704_067_400, 1_704_067_412, 1_704_067_424]);
      expect(blocks.map((b) => b.transactions.length)).toEqual([2, 0, 0]);
      const mined = await chain.emitBlock([{ contract, logs: [{ topics: [] }] }], 1_704_067_500);
      expect(mined.number).toBe(5);
      expect(Number((await chain.getBlock(5)).timestamp)).toBe(1_704_067_500);
    } finally {
      await chain.close();
    }
    await chain.close(); // idempotent
    await expect(rpc(chain.url, 'eth_blockNumber')).rejects.toThrow();
  });

  it('switches automine off and on (on mines one block with what is pending)', async () => {
    const chain = await startChain();
    try {
      const contract = await chain.deploy();
      await expect(chain.emitBlock([{ contract, logs: [] }], 1_704_067_500)).rejects.toThrow(/automine off/);
      await chain.setAutomine(false);
      const before = await chain.blockNumber();
      await chain.emit(contract, [{ topics: [topic(50)] }]);
      await chain.emit(contract, [{ topics: [topic(51)] }]);
      expect(await chain.blockNumber()).toBe(before);
      await chain.setAutomine(true);
      expect(await chain.blockNumber()).toBe(before + 1);
      expect((await chain.getBlock(before + 1)).transactions).toHaveLength(2);
      await chain.emit(contract, [{ topics: [topic(52)] }]);
      expect(await chain.blockNumber()).toBe(before + 2);
    } finally {
      await chain.close();
    }
  });

  it('is reproducible: same seed, time and timestamps give the same block hashes', async () => {
    const build = async () => {
      const chain = await startChain({ automine: false });
      try {
        const contract = await chain.deploy({ timestamp: 1_704_067_300 });
        await chain.emitBlock([{ contract, logs: FIVE_LOGS }], 1_704_067_312);
        return (await chain.getBlock('latest')).hash;
      } finally {
        await chain.close();
      }
    };
    expect(await build()).toBe(await build());
  });
});
