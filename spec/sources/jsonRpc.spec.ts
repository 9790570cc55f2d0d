import { SourceError } from '../../src/errors.js';
import { isMethodNotFound, JsonRpcError, jsonRpcBatch } from '../../src/sources/jsonRpc.js';

type Req = { id: number; method: string; params: unknown[] };

/** A fetch stub: `answer` gets the parsed batch and the attempt number (0-based). */
function stub(answer: (batch: Req[], attempt: number) => Response | Promise<Response>) {
  const signals: (AbortSignal | undefined)[] = [];
  let attempt = 0;
  const fetchStub = (async (_url: string, init?: RequestInit) => {
    signals.push(init?.signal ?? undefined);
    return answer(JSON.parse(String(init?.body)) as Req[], attempt++);
  }) as unknown as typeof fetch;
  return { fetch: fetchStub, signals, attempts: () => attempt };
}

const ok = (body: unknown) => new Response(JSON.stringify(body), { status: 200 });
const echo = (batch: Req[]) =>
  ok(batch.map((r) => ({ jsonrpc: '2.0', id: r.id, result: `${r.method}:${r.params[0]}` })));
const calls = [
  { method: 'a', params: [1] },
  { method: 'b', params: [2] },
  { method: 'c', params: [3] },
];
const fast = { retryDelayMs: 1 };

describe('jsonRpcBatch', () => {
  it('sends one array body and returns results in call order even when answers are shuffled', async () => {
    const s = stub((batch) =>
      ok([...batch].reverse().map((r) => ({ jsonrpc: '2.0', id: r.id, result: r.method }))),
    );
    await expect(jsonRpcBatch('http://x', calls, { fetch: s.fetch })).resolves.toEqual(['a', 'b', 'c']);
    expect(s.attempts()).toBe(1);
  });

  it('sends nothing for an empty batch', async () => {
    const s = stub(echo);
    await expect(jsonRpcBatch('http://x', [], { fetch: s.fetch })).resolves.toEqual([]);
    expect(s.attempts()).toBe(0);
  });

  it.each([
    ['HTTP 503', () => new Response('busy', { status: 503 })],
    ['HTTP 429', () => new Response('slow down', { status: 429 })],
    [
      'a network error',
      () => {
        throw new TypeError('fetch failed');
      },
    ],
    [
      'a rate-limit JSON-RPC error',
      () => ok([{ jsonrpc: '2.0', id: 0, error: { code: -32005, message: 'limit exceeded' } }]),
    ],
  ])('retries %s with backoff, then succeeds', async (_name, fail) => {
    const s = stub((batch, attempt) => (attempt < 2 ? fail() : echo(batch)));
    await expect(jsonRpcBatch('http://x', calls, { fetch: s.fetch, ...fast })).resolves.toEqual([
      'a:1',
      'b:2',
      'c:3',
    ]);
    expect(s.attempts()).toBe(3);
  });

  it('gives up after `retries` with a transient SourceError', async () => {
    const s = stub(() => new Response('down', { status: 502 }));
    const err = await jsonRpcBatch('http://x', calls, { fetch: s.fetch, retries: 2, ...fast }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(SourceError);
    expect(err.transient).toBe(true);
    expect(err.message).toMatch(/HTTP 502/);
    expect(s.attempts()).toBe(3);
  });

  it.each([
    ['HTTP 400', () => new Response('bad', { status: 400 }), /HTTP 400/],
    ['a body that is not JSON', () => new Response('<html>', { status: 200 }), /malformed/],
    ['an object instead of an array', () => ok({ jsonrpc: '2.0', id: 0, result: 1 }), /not an array/],
    ['a missing answer', () => ok([{ jsonrpc: '2.0', id: 0, result: 1 }]), /no answer to b/],
  ])('fails at once, not transient, on %s', async (_name, answer, message) => {
    const s = stub(answer);
    const err = await jsonRpcBatch('http://x', calls, { fetch: s.fetch, ...fast }).catch((e) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect(err.transient).toBe(false);
    expect(err.message).toMatch(message);
    expect(s.attempts()).toBe(1);
  });

  it('raises a JsonRpcError carrying the code for a call the node rejects', async () => {
    const s = stub((batch) =>
      ok(
        batch.map((r) =>
          r.method === 'b'
            ? { jsonrpc: '2.0', id: r.id, error: { code: -32601, message: 'the method b does not exist' } }
            : { jsonrpc: '2.0', id: r.id, result: 1 },
        ),
      ),
    );
    const err = await jsonRpcBatch('http://x', calls, { fetch: s.fetch }).catch((e) => e);
    expect(err).toBeInstanceOf(JsonRpcError);
    expect(err).toBeInstanceOf(SourceError);
    expect(err).toMatchObject({ method: 'b', rpcCode: -32601, code: 'JSON_RPC', transient: false });
    expect(isMethodNotFound(err)).toBe(true);
    expect(s.attempts()).toBe(1);
  });

  it('recognises method-not-found by code or by message, and nothing else', () => {
    expect(isMethodNotFound(new JsonRpcError('m', -32601, 'x', false))).toBe(true);
    expect(
      isMethodNotFound(new JsonRpcError('m', -32700, 'The method m does not exist/is not available', false)),
    ).toBe(true);
    expect(
      isMethodNotFound(new JsonRpcError('m', -32000, 'eth_getBlockReceipts is not supported', false)),
    ).toBe(true);
    expect(isMethodNotFound(new JsonRpcError('m', -32000, 'header not found', false))).toBe(false);
    expect(isMethodNotFound(new SourceError('method not found'))).toBe(false);
  });

  it('passes the signal to fetch and rejects with its reason when aborted during a backoff wait', async () => {
    const controller = new AbortController();
    const s = stub(() => {
      queueMicrotask(() => controller.abort(new Error('stop')));
      return new Response('down', { status: 503 });
    });
    // A one-hour backoff: only the abort can end this wait (and it must clear the timer).
    const err = await jsonRpcBatch('http://x', calls, {
      fetch: s.fetch,
      signal: controller.signal,
      retryDelayMs: 3_600_000,
    }).catch((e) => e);
    expect(err).toEqual(new Error('stop'));
    // fetch gets a per-attempt signal (it also carries the timeout), linked to the caller's
    expect(s.signals).toHaveLength(1);
    expect(s.signals[0]).toBeInstanceOf(AbortSignal);
    expect(s.attempts()).toBe(1);
  });

  it('rejects with the abort reason, not a SourceError, when the fetch itself is aborted', async () => {
    const controller = new AbortController();
    const hanging = ((_url: string, init?: RequestInit) =>
      new Promise((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      })) as unknown as typeof fetch;
    const pending = jsonRpcBatch('http://x', calls, { fetch: hanging, signal: controller.signal });
    controller.abort(new Error('bye'));
    await expect(pending).rejects.toEqual(new Error('bye'));
  });
});
