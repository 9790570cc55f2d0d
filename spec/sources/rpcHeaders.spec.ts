import { keccak_256 } from '@noble/hashes/sha3';
import ganache from 'ganache';
import { concatMap, EMPTY, firstValueFrom, from, lastValueFrom, of, take, tap, toArray } from 'rxjs';
import { InvalidOptionError, InvalidRangeError, SourceError } from '../../src/errors.js';
import { rpcHeaders } from '../../src/sources/rpcHeaders.js';
import type { BlockHeader } from '../../src/types/chain.js';
import { bytesToHex, type Hex } from '../../src/types/hex.js';
import { hangingFetch } from './hangingFetch.js';

type Req = { id: number; method: string; params: unknown[] };

const hashOf = (n: number): Hex => bytesToHex(keccak_256(new TextEncoder().encode(`block ${n}`)));
const bloomOf = (n: number): Hex => `0x${(n % 256).toString(16).padStart(2, '0').repeat(256)}`;
const chainHeader = (n: number): BlockHeader => ({
  number: n,
  hash: hashOf(n),
  parentHash: n === 0 ? `0x${'00'.repeat(32)}` : hashOf(n - 1),
  logsBloom: bloomOf(n),
});
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A fake node over a synthetic chain of `length` blocks. Batches finish after a pseudo-random
 * number of event-loop turns, so they complete out of order. Records batch sizes, peak
 * concurrency and every signal it was given.
 */
function fakeNode(
  length: number,
  tweak?: (req: Req, block: Record<string, unknown> | null) => unknown,
  /** Event-loop turns a batch starting at `first` takes (default: 0–4, pseudo-random). */
  turns: (first: number) => number = (first) => (first * 7919) % 5,
) {
  const stats = {
    batches: [] as Req[][],
    inFlight: 0,
    peak: 0,
    signals: [] as AbortSignal[],
    /** Fetches whose signal fired while they were still running. */
    abortedInFlight: 0,
    /** Fetches that answered. */
    answered: 0,
  };
  const fetchStub = (async (_url: string, init?: RequestInit) => {
    const batch = JSON.parse(String(init?.body)) as Req[];
    stats.batches.push(batch);
    if (init?.signal) stats.signals.push(init.signal);
    stats.inFlight++;
    stats.peak = Math.max(stats.peak, stats.inFlight);
    const onAbort = () => stats.abortedInFlight++;
    init?.signal?.addEventListener('abort', onAbort);
    try {
      const first = Number.parseInt(String(batch[0]?.params[0] ?? '0x0'), 16);
      for (let i = turns(first); i > 0 && !init?.signal?.aborted; i--) await tick();
      const answers = batch.map((r) => {
        if (r.method === 'eth_blockNumber')
          return { jsonrpc: '2.0', id: r.id, result: `0x${(length - 1).toString(16)}` };
        const n = Number.parseInt(String(r.params[0]), 16);
        const h = n < length ? chainHeader(n) : null;
        const block = h && { ...h, number: `0x${n.toString(16)}`, transactions: [], gasUsed: '0x0' };
        return { jsonrpc: '2.0', id: r.id, result: tweak ? tweak(r, block) : block };
      });
      if (init?.signal?.aborted) throw init.signal.reason;
      stats.answered++;
      return new Response(JSON.stringify(answers.reverse()));
    } finally {
      init?.signal?.removeEventListener('abort', onAbort);
      stats.inFlight--;
    }
  }) as unknown as typeof fetch;
  return { fetch: fetchStub, stats };
}

describe('rpcHeaders against a fake node', () => {
  it('emits every header of the range in ascending order, batched, with bounded concurrency', async () => {
    const node = fakeNode(300);
    const headers = await lastValueFrom(
      rpcHeaders('http://node', {
        fromBlock: 5,
        toBlock: 250,
        batchSize: 7,
        concurrency: 3,
        fetch: node.fetch,
      }).pipe(toArray()),
    );
    expect(headers).toEqual(Array.from({ length: 246 }, (_, i) => chainHeader(5 + i)));
    expect(node.stats.peak).toBeLessThanOrEqual(3);
    expect(node.stats.peak).toBeGreaterThan(1);
    expect(Math.max(...node.stats.batches.map((b) => b.length))).toBe(7);
    for (const b of node.stats.batches) {
      for (const r of b) expect(r.params[1]).toBe(false);
    }
    expect(node.stats.batches.flat().length).toBe(246); // nothing fetched twice
  });

  it("defaults to 0..'latest', resolving latest once with eth_blockNumber", async () => {
    const node = fakeNode(250);
    const headers = await lastValueFrom(rpcHeaders('http://node', { fetch: node.fetch }).pipe(toArray()));
    expect(headers.map((h) => h.number)).toEqual(Array.from({ length: 250 }, (_, i) => i));
    const methods = node.stats.batches.flat().map((r) => r.method);
    expect(methods.filter((m) => m === 'eth_blockNumber')).toHaveLength(1);
    expect(node.stats.batches.slice(1).map((b) => b.length)).toEqual([100, 100, 50]);
  });

  it('is cold: nothing is requested before subscribing', async () => {
    const node = fakeNode(10);
    const headers$ = rpcHeaders('http://node', { fetch: node.fetch });
    await tick();
    expect(node.stats.batches).toHaveLength(0);
    expect(await lastValueFrom(headers$.pipe(toArray()))).toHaveLength(10);
  });

  it('fails with SourceError when a block is missing (null)', async () => {
    const node = fakeNode(20);
    const err = await lastValueFrom(rpcHeaders('http://node', { toBlock: 25, fetch: node.fetch })).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(SourceError);
    expect(err.message).toMatch(/block 20 not found/);
  });

  it.each([
    ['a short logsBloom', (b: Record<string, unknown>) => ({ ...b, logsBloom: '0x00' }), /logsBloom/],
    ['a bad hash', (b: Record<string, unknown>) => ({ ...b, hash: '0x1234' }), /hash/],
    ['another block than asked', (b: Record<string, unknown>) => ({ ...b, number: '0x0' }), /got block 0/],
    ['a non-object', () => 'hello', /not an object/],
  ])('fails with SourceError on %s', async (_name, bad, message) => {
    const node = fakeNode(20, (r, block) => (r.params[0] === '0x3' && block ? bad(block) : block));
    const err = await lastValueFrom(rpcHeaders('http://node', { toBlock: 10, fetch: node.fetch })).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(SourceError);
    expect(err.message).toMatch(message);
  });

  it('retries a transient HTTP error and still emits everything in order', async () => {
    const node = fakeNode(50);
    let failures = 0;
    const flaky = ((url: string, init?: RequestInit) =>
      failures++ < 2
        ? Promise.resolve(new Response('oops', { status: 503 }))
        : node.fetch(url, init)) as typeof fetch;
    const headers = await lastValueFrom(
      rpcHeaders('http://node', { toBlock: 49, batchSize: 10, fetch: flaky, retryDelayMs: 1 }).pipe(
        toArray(),
      ),
    );
    expect(headers.map((h) => h.number)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('fails with a non-transient SourceError on HTTP 4xx without retrying', async () => {
    let calls = 0;
    const forbidden = (async () => {
      calls++;
      return new Response('no', { status: 403 });
    }) as unknown as typeof fetch;
    const err = await lastValueFrom(rpcHeaders('http://node', { toBlock: 3, fetch: forbidden })).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(SourceError);
    expect(err.transient).toBe(false);
    expect(calls).toBe(1);
  });

  it('fails with InvalidRangeError on a reversed range', async () => {
    const node = fakeNode(10);
    const err = await lastValueFrom(
      rpcHeaders('http://node', { fromBlock: 5, toBlock: 2, fetch: node.fetch }),
    ).catch((e) => e);
    expect(err).toBeInstanceOf(InvalidRangeError);
  });

  it('rejects bad batchSize / concurrency at call time', () => {
    expect(() => rpcHeaders('http://node', { batchSize: 0 })).toThrow(InvalidOptionError);
    expect(() => rpcHeaders('http://node', { concurrency: 1.5 })).toThrow(InvalidOptionError);
  });

  it('unsubscribing aborts every request in flight and starts no more', async () => {
    const signals: AbortSignal[] = [];
    const hanging = hangingFetch(signals);
    const sub = rpcHeaders('http://node', {
      toBlock: 10_000,
      batchSize: 10,
      concurrency: 4,
      fetch: hanging,
    }).subscribe();
    await tick();
    expect(signals).toHaveLength(4);
    expect(signals.some((s) => s.aborted)).toBe(false);
    sub.unsubscribe();
    expect(signals.every((s) => s.aborted)).toBe(true);
    await tick();
    expect(signals).toHaveLength(4);
  });

  it('take(n) stops early: the remaining batches are aborted and not requested', async () => {
    // Batches past the first two take long enough to be in flight when take(15) is satisfied.
    const node = fakeNode(100_000, undefined, (first) => (first < 20 ? 0 : 1000));
    const first = await lastValueFrom(
      rpcHeaders('http://node', { toBlock: 99_999, batchSize: 10, concurrency: 2, fetch: node.fetch }).pipe(
        take(15),
        toArray(),
      ),
    );
    expect(first.map((h) => h.number)).toEqual(Array.from({ length: 15 }, (_, i) => i));
    await tick();
    expect(node.stats.batches.length).toBeLessThanOrEqual(4);
    // Signals end up aborted anyway once the stream is over; what matters is that the abort
    // reached a fetch that was still running, which then never answered.
    expect(node.stats.abortedInFlight).toBeGreaterThan(0);
    expect(node.stats.answered).toBe(node.stats.batches.length - node.stats.abortedInFlight);
  });
});

describe('rpcHeaders with big batches and a fast node', () => {
  /** Answers every batch at once (no event-loop turns), like a node on localhost. */
  const fastNode = (async (_url: string, init?: RequestInit) => {
    const batch = JSON.parse(String(init?.body)) as Req[];
    const answers = batch.map((r) => {
      const n = Number.parseInt(String(r.params[0]), 16);
      return { jsonrpc: '2.0', id: r.id, result: { ...chainHeader(n), number: `0x${n.toString(16)}` } };
    });
    return new Response(JSON.stringify(answers));
  }) as unknown as typeof fetch;
  const options = { fromBlock: 0, toBlock: 5999, batchSize: 1000, fetch: fastNode };
  const numbers = Array.from({ length: 6000 }, (_, i) => i);

  it('plain consumption: every header', async () => {
    const headers = await lastValueFrom(rpcHeaders('http://node', options).pipe(toArray()));
    expect(headers.map((h) => h.number)).toEqual(numbers);
  });

  // A 1000-header burst into concatMap behind an async inner left a backlog of 999 inners that
  // complete synchronously, which concatMap runs recursively: the stack overflowed and the
  // stream stopped without a word.
  it.each([
    ['EMPTY-or-async', (h: BlockHeader) => (h.number % 1000 === 0 ? from(Promise.resolve(h)) : EMPTY)],
    ['of-or-async', (h: BlockHeader) => (h.number % 2 ? of(h) : from(Promise.resolve(h)))],
    [
      'sync-or-async every 1000',
      (h: BlockHeader) => (h.number % 1000 === 0 ? from(Promise.resolve(h)) : of(h)),
    ],
  ])('downstream concatMap (%s) completes with every header', async (_, project) => {
    let seen = 0;
    const out = await lastValueFrom(
      rpcHeaders('http://node', options).pipe(
        tap(() => seen++),
        concatMap(project),
        toArray(),
      ),
    );
    expect(seen).toBe(6000);
    expect(out.map((h) => h.number)).toEqual(
      numbers.filter((n) => project({ number: n } as BlockHeader) !== EMPTY),
    );
  });
});

describe('rpcHeaders against ganache', () => {
  let server: ReturnType<typeof ganache.server>;
  let url: string;

  beforeAll(async () => {
    server = ganache.server({ logging: { quiet: true } } as never); // ganache's option types collapse to `undefined` here;
    await server.listen(0, '127.0.0.1');
    const address = server.address() as { port: number };
    url = `http://127.0.0.1:${address.port}`;
    const provider = server.provider;
    for (let i = 0; i < 12; i++) await provider.request({ method: 'evm_mine', params: [] });
  });
  afterAll(async () => {
    await server.close();
  });

  it('reads the whole chain as a linked sequence of headers', async () => {
    const headers = await lastValueFrom(rpcHeaders(url, { batchSize: 5, concurrency: 2 }).pipe(toArray()));
    expect(headers.map((h) => h.number)).toEqual(Array.from({ length: 13 }, (_, i) => i));
    for (let i = 1; i < headers.length; i++) expect(headers[i]!.parentHash).toBe(headers[i - 1]!.hash);
    const block = (await server.provider.request({
      method: 'eth_getBlockByNumber',
      params: ['0xc', false],
    })) as {
      hash: string;
      logsBloom: string;
    };
    expect(headers[12]).toMatchObject({ hash: block.hash, logsBloom: block.logsBloom });
  });

  it("fails with SourceError for blocks past 'latest'", async () => {
    const err = await firstValueFrom(rpcHeaders(url, { fromBlock: 10, toBlock: 20 }).pipe(toArray())).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(SourceError);
    expect(err.message).toMatch(/block 13 not found/);
  });
});
