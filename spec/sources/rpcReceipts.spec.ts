import ganache from 'ganache';
import { firstValueFrom, lastValueFrom } from 'rxjs';
import { BlockNotFoundError, SourceError } from '../../src/errors.js';
import { rpcReceipts } from '../../src/sources/rpcReceipts.js';
import type { Log } from '../../src/types/chain.js';
import type { Hex } from '../../src/types/hex.js';
import { hangingFetch } from './hangingFetch.js';

type Req = { id: number; method: string; params: unknown[] };

const TOPIC_A = `0x${'a1'.repeat(32)}` as Hex;
const TOPIC_B = `0x${'b2'.repeat(32)}` as Hex;

/** Init code that deploys a runtime doing `LOG1(topic)` with no data: PUSH32 topic, PUSH1 0, PUSH1 0, LOG1, STOP. */
function log1Contract(topic: Hex): Hex {
  const runtime = `7f${topic.slice(2)}60006000a100`; // 38 bytes
  const init = '6026600c60003960266000f3'; // CODECOPY(0, 12, 38); RETURN(0, 38)
  return `0x${init}${runtime}`;
}

let server: ReturnType<typeof ganache.server>;
let url: string;
// biome-ignore lint/suspicious/noExplicitAny: untyped JSON-RPC results, read field by field in setup
let rpcCall: (method: string, params?: unknown[]) => Promise<any>;
/** What we made the chain emit, per block: [address, topic] in execution order. */
const emitted = new Map<number, { address: string; topic: Hex }[]>();
let busyBlock: { number: number; hash: Hex };
let quietBlock: number;

beforeAll(async () => {
  server = ganache.server({ logging: { quiet: true } } as never); // ganache's option types collapse to `undefined` here;
  await server.listen(0, '127.0.0.1');
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  rpcCall = (method, params = []) => server.provider.request({ method, params } as never);
  const [from] = await rpcCall('eth_accounts');
  const deploy = async (topic: Hex) => {
    const tx = await rpcCall('eth_sendTransaction', [{ from, data: log1Contract(topic) }]);
    return (await rpcCall('eth_getTransactionReceipt', [tx])).contractAddress as string;
  };
  const a = await deploy(TOPIC_A);
  const b = await deploy(TOPIC_B);
  // Several transactions (and so several receipts) in one block: stop the miner, send, mine.
  await rpcCall('miner_stop');
  const order = [a, b, a, a, b];
  const txs: string[] = [];
  for (const to of order) txs.push(await rpcCall('eth_sendTransaction', [{ from, to }]));
  await rpcCall('evm_mine');
  await rpcCall('miner_start');
  const receipts = await Promise.all(txs.map((tx) => rpcCall('eth_getTransactionReceipt', [tx])));
  busyBlock = { number: Number(receipts[0].blockNumber), hash: receipts[0].blockHash };
  if (receipts.some((r) => r.blockHash !== busyBlock.hash))
    throw new Error('test setup: transactions in several blocks');
  emitted.set(
    busyBlock.number,
    order.map((address) => ({ address, topic: address === a ? TOPIC_A : TOPIC_B })),
  );
  quietBlock = busyBlock.number - 1; // holds the deployment of b: no logs
});
afterAll(async () => {
  await server.close();
});

/** Wraps global fetch to count the JSON-RPC methods asked for. */
function counting(inner: typeof fetch = fetch) {
  const methods: string[] = [];
  const wrapped = ((input: string, init?: RequestInit) => {
    for (const r of JSON.parse(String(init?.body)) as Req[]) methods.push(r.method);
    return inner(input, init);
  }) as typeof fetch;
  return { fetch: wrapped, methods };
}

/**
 * ganache has no eth_getBlockReceipts: answer it here from the node's own block and logs,
 * shaped as geth answers it (one receipt per transaction, each with its logs).
 */
const withBlockReceipts = (async (input: string, init?: RequestInit) => {
  const batch = JSON.parse(String(init?.body)) as Req[];
  const answers = [];
  for (const r of batch) {
    if (r.method !== 'eth_getBlockReceipts') {
      answers.push({ jsonrpc: '2.0', id: r.id, result: await rpcCall(r.method, r.params) });
      continue;
    }
    const block = await rpcCall('eth_getBlockByNumber', [r.params[0], false]);
    if (block === null) {
      answers.push({ jsonrpc: '2.0', id: r.id, result: null });
      continue;
    }
    const logs: Log[] = await rpcCall('eth_getLogs', [{ blockHash: block.hash }]);
    const receipts = (block.transactions as string[]).map((h) => ({
      transactionHash: h,
      blockHash: block.hash,
      blockNumber: block.number,
      logs: logs.filter((l) => l.transactionHash === h),
    }));
    answers.push({ jsonrpc: '2.0', id: r.id, result: receipts.reverse() }); // order must not matter
  }
  void input;
  return new Response(JSON.stringify(answers));
}) as unknown as typeof fetch;

function expectEmitted(logs: Log[], number: number, hash: Hex) {
  expect(logs.map((l) => ({ address: l.address, topic: l.topics[0] }))).toEqual(emitted.get(number));
  expect(logs.map((l) => l.logIndex)).toEqual(logs.map((_, i) => `0x${i.toString(16)}`));
  for (const l of logs) expect(l).toMatchObject({ blockNumber: `0x${number.toString(16)}`, blockHash: hash });
}

describe('rpcReceipts against ganache', () => {
  it('falls back to eth_getLogs when eth_getBlockReceipts is missing, and remembers it', async () => {
    const c = counting();
    const source = rpcReceipts(url, { fetch: c.fetch });
    expectEmitted(await lastValueFrom(source(busyBlock)), busyBlock.number, busyBlock.hash);
    expectEmitted(
      await lastValueFrom(source({ number: busyBlock.number })),
      busyBlock.number,
      busyBlock.hash,
    );
    expect(await lastValueFrom(source({ number: quietBlock }))).toEqual([]);
    expect(c.methods).toEqual([
      'eth_getBlockReceipts',
      'eth_getLogs',
      'eth_getBlockByHash',
      'eth_getLogs',
      'eth_getBlockByNumber',
      'eth_getLogs',
      'eth_getBlockByNumber',
    ]);
  });

  it('uses eth_getBlockReceipts when the node has it, flattening receipts in log-index order', async () => {
    const c = counting(withBlockReceipts);
    const source = rpcReceipts(url, { fetch: c.fetch });
    const viaReceipts = await lastValueFrom(source(busyBlock));
    expectEmitted(viaReceipts, busyBlock.number, busyBlock.hash);
    expect(await lastValueFrom(source({ number: quietBlock }))).toEqual([]);
    expect(c.methods).toEqual(['eth_getBlockReceipts', 'eth_getBlockReceipts']);
    // Same logs as the fallback path gives.
    expect(viaReceipts).toEqual(await lastValueFrom(rpcReceipts(url)(busyBlock)));
  });

  it('rejects an answer for another block hash (a reorg) on both paths', async () => {
    const stale = { number: busyBlock.number, hash: `0x${'ee'.repeat(32)}` as Hex };
    const e1 = await firstValueFrom(rpcReceipts(url, { fetch: withBlockReceipts })(stale)).catch((e) => e);
    // A BlockNotFoundError (a SourceError) naming the block and hash: watch waits for the reorg on it.
    expect(e1).toBeInstanceOf(BlockNotFoundError);
    expect({ block: e1.block, hash: e1.hash }).toEqual({ block: stale.number, hash: stale.hash });
    const e2 = await firstValueFrom(rpcReceipts(url)(stale)).catch((e) => e);
    expect(e2).toBeInstanceOf(BlockNotFoundError); // ganache answers [] for an unknown hash: the block lookup catches it
    expect(e2).toBeInstanceOf(SourceError);
    expect({ block: e2.block, hash: e2.hash }).toEqual({ block: stale.number, hash: stale.hash });
    expect(e2.message).toMatch(/not found/);
  });

  it.each([
    ['eth_getBlockReceipts', withBlockReceipts],
    ['eth_getLogs', fetch],
  ])('fails with SourceError for a block the node does not have (%s)', async (_path, f) => {
    const err = await firstValueFrom(rpcReceipts(url, { fetch: f })({ number: 1_000_000 })).catch((e) => e);
    expect(err).toBeInstanceOf(BlockNotFoundError);
    expect({ block: err.block, hash: err.hash }).toEqual({ block: 1_000_000, hash: undefined });
    expect(err.message).toMatch(/not found/);
  });
});

describe('rpcReceipts cancellation', () => {
  it('unsubscribing aborts the request', async () => {
    const signals: AbortSignal[] = [];
    const hanging = hangingFetch(signals);
    const source = rpcReceipts('http://127.0.0.1:1', { fetch: hanging });
    const sub = source({ number: 5 }).subscribe();
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(signals).toHaveLength(1);
    expect(signals[0]!.aborted).toBe(false);
    sub.unsubscribe();
    expect(signals[0]!.aborted).toBe(true);
  });
});
