/**
 * Where the page's headers and receipts come from: the bundled sample chain (gzipped NDJSON, streamed
 * through DecompressionStream and parsed here) or a JSON-RPC node (a URL or an injected EIP-1193 provider).
 */
import {
  type BlockHeader,
  type Eip1193Provider,
  type HeaderSource,
  isProvider,
  jsonRpcBatch,
  type Log,
  type LogsSource,
  type RpcEndpoint,
  rpcHeaders,
  rpcReceipts,
  SourceError,
} from 'rx-bloombits';
import { EMPTY, filter, map, Observable, reduce, shareReplay, switchMap, timer } from 'rxjs';
import headersUrl from '../../data/sample-headers.ndjson.gz?url';
import logsUrl from '../../data/sample-logs.ndjson.gz?url';
import meta from '../../data/sample-meta.json';

export { meta as sampleMeta };

/** A chain the page can index: its IndexedDB name, its headers, its receipts and where it ends. */
export interface ChainSource {
  /** IndexedDB database name: one index per chain. */
  readonly dbName: string;
  readonly label: string;
  readonly headers: HeaderSource;
  /** Receipts with an optional simulated latency per block (the sample is local: it has none of its own). */
  receipts(latencyMs: number): LogsSource;
  /** The last block to index (the node's head at the time of asking). */
  target(): Promise<number>;
}

/**
 * The non-empty lines of a gzipped text file, as they arrive: fetch → DecompressionStream →
 * TextDecoderStream. Unsubscribing aborts the download.
 */
export function gzipLines(url: string): Observable<string> {
  return new Observable<string>((subscriber) => {
    const abort = new AbortController();
    (async () => {
      const response = await fetch(url, { signal: abort.signal });
      if (!response.ok || response.body === null) throw new SourceError(`${url}: HTTP ${response.status}`);
      // A server that labels the file `Content-Encoding: gzip` (Vite's dev server does) has had the
      // browser gunzip it already; a plain static server hands over the gzip bytes.
      const decoded = /gzip/i.test(response.headers.get('content-encoding') ?? '');
      const bytes = decoded ? response.body : response.body.pipeThrough(new DecompressionStream('gzip'));
      const reader = bytes.pipeThrough(new TextDecoderStream()).getReader();
      let rest = '';
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const lines = (rest + value).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) {
          if (subscriber.closed) return;
          if (line.trim() !== '') subscriber.next(line);
        }
      }
      if (rest.trim() !== '') subscriber.next(rest);
      subscriber.complete();
    })().catch((e: unknown) => subscriber.error(e));
    return () => abort.abort();
  });
}

/** A JSON-RPC block object (as the sample stores it) to the fields the index reads. */
export function parseHeaderLine(line: string): BlockHeader {
  const block = JSON.parse(line) as Record<string, string>;
  const number = Number.parseInt(block.number ?? '', 16);
  if (!Number.isSafeInteger(number) || !block.hash || !block.parentHash || !block.logsBloom)
    throw new SourceError(`malformed header line: ${line.slice(0, 80)}`);
  return {
    number,
    hash: block.hash as BlockHeader['hash'],
    parentHash: block.parentHash as BlockHeader['parentHash'],
    logsBloom: block.logsBloom as BlockHeader['logsBloom'],
  };
}

/** The sample's logs by block number, read once per page load. */
const sampleLogs$ = gzipLines(logsUrl).pipe(
  map((line) => JSON.parse(line) as Log),
  reduce((byBlock, log) => {
    const n = Number.parseInt(log.blockNumber, 16);
    const logs = byBlock.get(n);
    if (logs === undefined) byBlock.set(n, [log]);
    else logs.push(log);
    return byBlock;
  }, new Map<number, Log[]>()),
  shareReplay(1),
);

export const sampleSource: ChainSource = {
  dbName: 'rx-bloombits/sample',
  label: `bundled sample chain (${meta.blocks.toLocaleString('en')} blocks)`,
  // Resuming: the index asks for the headers from its next block on.
  headers: (from) =>
    from > meta.toBlock
      ? EMPTY
      : gzipLines(headersUrl).pipe(
          map(parseHeaderLine),
          filter((h) => h.number >= from),
        ),
  receipts:
    (latencyMs) =>
    ({ number, hash }) =>
      sampleLogs$.pipe(
        switchMap((byBlock) =>
          timer(latencyMs).pipe(
            map(() => {
              const logs = byBlock.get(number) ?? [];
              if (hash !== undefined && logs[0] !== undefined && logs[0].blockHash !== hash)
                throw new SourceError(`block ${number} is not ${hash} in the sample`);
              return logs;
            }),
          ),
        ),
      ),
  target: async () => meta.toBlock,
};

/** A JSON-RPC node: `endpoint` is a URL or an EIP-1193 provider (e.g. `window.ethereum`). */
export function rpcSource(endpoint: RpcEndpoint, name: string): ChainSource {
  let target = -1;
  return {
    dbName: `rx-bloombits/${name}`,
    label: name,
    headers: (from) => (from > target ? EMPTY : rpcHeaders(endpoint, { fromBlock: from, toBlock: target })),
    receipts: () => rpcReceipts(endpoint),
    target: async () => (target = Number(await blockNumber(endpoint))),
  };
}

async function blockNumber(endpoint: RpcEndpoint): Promise<string> {
  const call = { method: 'eth_blockNumber', params: [] };
  const [head] = isProvider(endpoint) ? [await endpoint.request(call)] : await jsonRpcBatch(endpoint, [call]);
  return String(head);
}

/** The wallet's provider, if the page has one. */
export function injectedProvider(): Eip1193Provider | undefined {
  const candidate = (globalThis as { ethereum?: unknown }).ethereum;
  return isProvider(candidate) ? candidate : undefined;
}
