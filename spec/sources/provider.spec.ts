import { EventEmitter } from 'node:events';
import {
  asyncScheduler,
  firstValueFrom,
  lastValueFrom,
  type SchedulerAction,
  type SchedulerLike,
  take,
  toArray,
} from 'rxjs';
import { InvalidOptionError, SourceError } from '../../src/errors.js';
import { JsonRpcError } from '../../src/sources/jsonRpc.js';
import { liveHeaders } from '../../src/sources/liveHeaders.js';
import { type Eip1193Provider, providerError } from '../../src/sources/provider.js';
import { rpcHeaders } from '../../src/sources/rpcHeaders.js';
import { rpcReceipts } from '../../src/sources/rpcReceipts.js';
import type { BlockHeader } from '../../src/types/chain.js';
import { type Chain, padAddress, startChain } from '../helpers/ganache.js';
import { makeChain } from '../indexer/helpers.js';

const hex = (n: number) => `0x${n.toString(16)}`;
const json = (h: BlockHeader) => ({
  number: hex(h.number),
  hash: h.hash,
  parentHash: h.parentHash,
  logsBloom: h.logsBloom,
});

/** An in-memory EIP-1193 provider over `chain[0..head]`; records every request. */
function fakeProvider(chain: readonly BlockHeader[], head: { value: number }) {
  const calls: string[] = [];
  const provider: Eip1193Provider = {
    async request({ method, params }) {
      calls.push(method);
      await Promise.resolve();
      const p = (params ?? []) as unknown[];
      if (method === 'eth_blockNumber') return hex(head.value);
      if (method === 'eth_getBlockByNumber') {
        const n = Number(p[0]);
        return n <= head.value && chain[n] ? json(chain[n]) : null;
      }
      throw Object.assign(new Error(`the method ${method} does not exist/is not available`), {
        code: -32601,
      });
    },
  };
  return { provider, calls };
}

describe('a provider instead of a URL', () => {
  const chain = makeChain(60, 3);

  it('rpcHeaders reads a range with plain request calls (no batching of ours)', async () => {
    const { provider, calls } = fakeProvider(chain, { value: 59 });
    const got = await lastValueFrom(
      rpcHeaders(provider, { fromBlock: 5, toBlock: 'latest' }).pipe(toArray()),
    );
    expect(got).toEqual(chain.slice(5));
    expect(calls.filter((m) => m === 'eth_getBlockByNumber')).toHaveLength(55);
  });

  it("turns the provider's failures into SourceErrors (JsonRpcError when they carry a code)", async () => {
    const failing: Eip1193Provider = {
      request: async () => {
        throw Object.assign(new Error('boom'), { code: -32000 });
      },
    };
    const err = await firstValueFrom(rpcHeaders(failing, { fromBlock: 0, toBlock: 3 })).catch((e) => e);
    expect(err).toBeInstanceOf(JsonRpcError);
    expect(err).toMatchObject({ rpcCode: -32000, code: 'JSON_RPC', transient: false });
    const plain = providerError('eth_call', new TypeError('fetch failed'));
    expect(plain).toBeInstanceOf(SourceError);
    expect(plain.transient).toBe(true);
    // viem nests the RPC error as `cause`, ethers as `error`
    expect(providerError('m', { cause: { code: 429, message: 'slow down' } })).toMatchObject({
      rpcCode: 429,
    });
    expect(providerError('m', { error: { code: -32601, message: 'nope' } })).toMatchObject({
      rpcCode: -32601,
    });
  });

  it('rejects an endpoint that is neither a URL nor a provider', () => {
    expect(() => rpcHeaders({} as never)).toThrow(SourceError);
    expect(() => rpcReceipts(42 as never)).toThrow(SourceError);
  });
});

describe('liveHeaders', () => {
  const chain = makeChain(80, 9);

  it('polls the head and emits every new block in order, filling gaps', async () => {
    const head = { value: 10 };
    const { provider } = fakeProvider(chain, head);
    const got: BlockHeader[] = [];
    const sub = liveHeaders(provider, { fromBlock: 8, pollIntervalMs: 5 }).subscribe((h) => {
      got.push(h);
      // the chain grows by jumps: several blocks between two polls
      if (h.number === head.value && head.value < 70) head.value += 1 + (h.number % 4);
    });
    while (head.value < 70 || got.at(-1)?.number !== head.value) await new Promise((r) => setTimeout(r, 5));
    sub.unsubscribe();
    expect(got.map((h) => h.number)).toEqual(Array.from({ length: head.value - 7 }, (_, i) => 8 + i));
    for (let i = 1; i < got.length; i++) expect(got[i]!.parentHash).toBe(got[i - 1]!.hash);
  });

  it('starts at the head by default and stops requesting after unsubscribe', async () => {
    const head = { value: 20 };
    const { provider, calls } = fakeProvider(chain, head);
    const first = await firstValueFrom(liveHeaders(provider, { pollIntervalMs: 1 }));
    expect(first.number).toBe(20);
    const count = calls.length;
    await new Promise((r) => setTimeout(r, 30));
    expect(calls.length).toBe(count);
  });

  it('reports a failing provider as an error, not a hang', async () => {
    const head = { value: 5 };
    const { provider } = fakeProvider(chain, head);
    let n = 0;
    const flaky: Eip1193Provider = {
      request: (args) => (++n > 4 ? Promise.reject(new Error('socket closed')) : provider.request(args)),
    };
    await expect(lastValueFrom(liveHeaders(flaky, { fromBlock: 0, pollIntervalMs: 1 }))).rejects.toThrow(
      /socket closed/,
    );
  });

  it('waits on the given scheduler, and unsubscribing cancels the scheduled wait', async () => {
    const head = { value: 2 };
    const { provider } = fakeProvider(chain, head);
    const delays: number[] = [];
    let ran = 0;
    const scheduler: SchedulerLike = {
      now: () => Date.now(),
      schedule: (work, delay) => {
        delays.push(delay ?? 0);
        // 1 ms on the real clock for the 60 s asked
        return asyncScheduler.schedule(function (this: SchedulerAction<unknown>) {
          ran++;
          (work as () => void).call(this);
        }, 1);
      },
    };
    const got: number[] = [];
    const sub = liveHeaders(provider, { fromBlock: 0, pollIntervalMs: 60_000, scheduler }).subscribe((h) => {
      got.push(h.number);
      if (h.number === head.value && head.value < 6) head.value++;
    });
    while (got.length < 7) await new Promise((r) => setTimeout(r, 2));
    sub.unsubscribe();
    await new Promise((r) => setTimeout(r, 5));
    expect(got).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(new Set(delays)).toEqual(new Set([60_000]));
    // the wait pending at unsubscribe never ran
    expect(ran).toBe(delays.length - 1);
  });

  it('rejects a bad poll interval at call time', () => {
    expect(() => liveHeaders('http://x', { pollIntervalMs: 0 })).toThrow(InvalidOptionError);
  });

  it('wakes on eth_subscribe notifications when the provider has them', async () => {
    const head = { value: 3 };
    const { provider: base } = fakeProvider(chain, head);
    const events = new EventEmitter();
    const subscribed: string[] = [];
    const provider: Eip1193Provider = {
      request: async (args) => {
        if (args.method === 'eth_subscribe') return '0xabc';
        if (args.method === 'eth_unsubscribe') {
          subscribed.push('gone');
          return true;
        }
        return base.request(args);
      },
      on: (e, l) => events.on(e, l as never),
      removeListener: (e, l) => events.removeListener(e, l as never),
    };
    const got: number[] = [];
    // the poll interval is far longer than the test: only a notification can wake it
    const sub = liveHeaders(provider, { fromBlock: 0, pollIntervalMs: 2 ** 30 }).subscribe((h) =>
      got.push(h.number),
    );
    while (got.length < 4) await new Promise((r) => setTimeout(r, 2));
    head.value = 6;
    events.emit('message', { type: 'eth_subscription', data: { subscription: '0xabc', result: {} } });
    while (got.length < 7) await new Promise((r) => setTimeout(r, 2));
    sub.unsubscribe();
    expect(got).toEqual([0, 1, 2, 3, 4, 5, 6]);
    await new Promise((r) => setTimeout(r, 1));
    expect(events.listenerCount('message')).toBe(0);
    expect(subscribed).toEqual(['gone']);
  });
});

describe('against ganache', () => {
  let chain: Chain;
  beforeAll(async () => {
    chain = await startChain();
  });
  afterAll(() => chain?.close());

  it("ganache's own provider serves headers and receipts like its URL does", async () => {
    const emitter = await chain.deploy();
    const topic = padAddress(chain.accounts[2]!);
    await chain.emit(emitter, [{ topics: [topic], data: '0x01' }, { topics: [] }]);
    await chain.mine(3);
    const provider = chain.provider as Eip1193Provider;
    const byUrl = await lastValueFrom(rpcHeaders(chain.url).pipe(toArray()));
    const byProvider = await lastValueFrom(rpcHeaders(provider).pipe(toArray()));
    expect(byProvider).toEqual(byUrl);
    const n = byUrl.length - 4;
    const logs = await lastValueFrom(rpcReceipts(provider)({ number: n, hash: byUrl[n]!.hash }));
    expect(logs).toEqual(await lastValueFrom(rpcReceipts(chain.url)({ number: n })));
    expect(logs).toHaveLength(2);
  });

  it('follows new blocks through eth_subscribe on the provider, and by polling the URL', async () => {
    const start = await chain.blockNumber();
    const viaSubscription = liveHeaders(chain.provider as Eip1193Provider, {
      fromBlock: start,
      pollIntervalMs: 2 ** 30,
    });
    const viaPolling = liveHeaders(chain.url, { fromBlock: start, pollIntervalMs: 20 });
    const both = Promise.all([
      lastValueFrom(viaSubscription.pipe(take(4), toArray())),
      lastValueFrom(viaPolling.pipe(take(4), toArray())),
    ]);
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 50));
      await chain.mine(1);
    }
    const [a, b] = await both;
    expect(a.map((h) => h.number)).toEqual([start, start + 1, start + 2, start + 3]);
    expect(b).toEqual(a);
  });
});
