import { createServer, type Server, type Socket } from 'node:net';
import { lastValueFrom, toArray } from 'rxjs';
import { InvalidOptionError, SourceError } from '../../src/errors.js';
import { jsonRpcBatch, type RetryInfo } from '../../src/sources/jsonRpc.js';
import { rpcHeaders } from '../../src/sources/rpcHeaders.js';
import { rpcReceipts } from '../../src/sources/rpcReceipts.js';

/** A node that accepts connections, reads the request and never answers. */
class SilentNode {
  readonly sockets: Socket[] = [];
  requests = 0;
  private server: Server | undefined;
  url = '';
  async start(): Promise<void> {
    this.server = createServer((socket) => {
      this.sockets.push(socket);
      socket.on('data', (chunk) => {
        if (chunk.toString('latin1').startsWith('POST')) this.requests++;
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as { port: number };
    this.url = `http://127.0.0.1:${port}`;
  }
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('JSON-RPC request timeout against a node that never answers', () => {
  const node = new SilentNode();
  beforeAll(() => node.start());
  afterAll(() => node.stop());
  beforeEach(() => {
    node.requests = 0;
  });

  it('jsonRpcBatch: each attempt times out as a transient SourceError, is retried, onRetry is told', async () => {
    const before = timers();
    const retriesSeen: RetryInfo[] = [];
    const error = await jsonRpcBatch(node.url, [{ method: 'eth_blockNumber', params: [] }], {
      timeoutMs: 150,
      retries: 2,
      retryDelayMs: 5,
      onRetry: (info) => retriesSeen.push(info),
    }).catch((e) => e);
    expect(error).toBeInstanceOf(SourceError);
    expect(error.transient).toBe(true);
    expect(error.message).toMatch(/timed out after 150 ms/);
    expect(node.requests).toBe(3);
    expect(retriesSeen.map(({ attempt, retries, delayMs }) => ({ attempt, retries, delayMs }))).toEqual([
      { attempt: 1, retries: 2, delayMs: 5 },
      { attempt: 2, retries: 2, delayMs: 10 },
    ]);
    expect(retriesSeen.every((r) => r.error instanceof SourceError && r.error.transient)).toBe(true);
    expect(timers()).toBeLessThanOrEqual(before);
  });

  it('rpcHeaders: timeoutMs and onRetry reach every request; the failure is the stream error', async () => {
    const seen: number[] = [];
    const error = await lastValueFrom(
      rpcHeaders(node.url, {
        fromBlock: 0,
        toBlock: 3,
        timeoutMs: 100,
        retries: 1,
        retryDelayMs: 1,
        onRetry: (info) => seen.push(info.attempt),
      }).pipe(toArray()),
    ).catch((e) => e);
    expect(error).toBeInstanceOf(SourceError);
    expect(error.message).toMatch(/timed out after 100 ms/);
    expect(seen).toEqual([1]);
  });

  it('rpcReceipts: timeoutMs and onRetry reach the request', async () => {
    const seen: number[] = [];
    const error = await lastValueFrom(
      rpcReceipts(node.url, {
        timeoutMs: 100,
        retries: 1,
        retryDelayMs: 1,
        onRetry: (i) => seen.push(i.attempt),
      })({
        number: 1,
      }),
    ).catch((e) => e);
    expect(error).toBeInstanceOf(SourceError);
    expect(error.message).toMatch(/timed out after 100 ms/);
    expect(seen).toEqual([1]);
  });

  it('unsubscribing during a hanging attempt leaves no timer behind', async () => {
    const before = timers();
    const sub = rpcHeaders(node.url, { fromBlock: 0, toBlock: 3, timeoutMs: 60_000 }).subscribe({
      error: () => {},
    });
    while (node.requests === 0) await new Promise((r) => setTimeout(r, 5));
    expect(timers()).toBeGreaterThan(before);
    sub.unsubscribe();
    await new Promise((r) => setImmediate(r));
    expect(timers()).toBeLessThanOrEqual(before);
  });
});

describe('timeoutMs validation', () => {
  it.each([0, -5, Number.NaN, '100'])('rejects %p with InvalidOptionError', async (timeoutMs) => {
    await expect(
      jsonRpcBatch('http://x', [{ method: 'm', params: [] }], { timeoutMs: timeoutMs as number }),
    ).rejects.toBeInstanceOf(InvalidOptionError);
    expect(() => rpcHeaders('http://x', { timeoutMs: timeoutMs as number })).toThrow(InvalidOptionError);
    expect(() => rpcReceipts('http://x', { timeoutMs: timeoutMs as number })).toThrow(InvalidOptionError);
  });
});
