/**
 * The web example (examples/web) in a real browser: Debian's chromium, headless, driven by
 * playwright-core. The page is built with Vite against the built package and served on 127.0.0.1;
 * it indexes the bundled sample into IndexedDB, and its streamed answers must equal what
 * BloomIndex.match()/logs() give in Node on the same data. In CI a missing chromium fails this file.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { MemoryLevel } from 'memory-level';
import type { Browser, Locator, Page } from 'playwright-core';
import { lastValueFrom, toArray } from 'rxjs';
import { decodeEventLog } from 'viem';
import meta from '../../examples/data/sample-meta.json';
import {
  BloomIndex,
  eventTopic,
  type Log,
  type LogFilter,
  ndjsonHeaders,
  ndjsonLogs,
  padAddress,
  parseEvent,
} from '../../src/node.js';
import type { Hex } from '../../src/types/hex.js';
import { assertBuilt } from '../cli/helpers.js';
import { type Chain, startChain } from '../helpers/ganache.js';
import { buildWeb, chromiumAvailable, launchChromium, ROOT, serveDir } from './helpers/web.js';

const HEADERS = path.join(ROOT, 'examples/data/sample-headers.ndjson.gz');
const LOGS = path.join(ROOT, 'examples/data/sample-logs.ndjson.gz');
const TMP = path.join(ROOT, '.tmp');
const TRANSFER = 'Transfer(address indexed from, address indexed to, uint256 value)';
const SWAP =
  'Swap(address indexed sender, uint amount0In, uint amount1In, uint amount0Out, uint amount1Out, address indexed to)';
const {
  contracts: C,
  topics: T,
  users: U,
} = meta as unknown as {
  contracts: Record<string, Hex>;
  topics: Record<string, Hex>;
  users: Record<string, Hex>;
};

/** A filter as typed into the page's form, and the same filter as Node is given it. */
interface Case {
  fields: Record<'event' | 'address' | 'topic1' | 'topic2' | 'topic3' | 'fromBlock' | 'toBlock', string>;
  filter: LogFilter;
  fromBlock: number;
}
const blank = { address: '', topic1: '', topic2: '', topic3: '', fromBlock: '', toBlock: '' };
const CASES: Record<'demo' | 'orLists' | 'swapIntoTail', Case> = {
  demo: {
    fields: { ...blank, event: TRANSFER, address: C.BLM!, topic2: U.alice!, fromBlock: '0' },
    filter: { address: C.BLM!, topics: [eventTopic(TRANSFER), null, padAddress(U.alice!)] },
    fromBlock: 0,
  },
  orLists: {
    fields: {
      ...blank,
      event: `${T.Transfer}, ${T.Approval}`,
      address: `${C.RXT}, ${C.SEC}`,
      topic2: `${U.bob}, ${U.carol}`,
      fromBlock: '2000',
    },
    filter: {
      address: [C.RXT!, C.SEC!],
      topics: [[T.Transfer!, T.Approval!], null, [padAddress(U.bob!), padAddress(U.carol!)]],
    },
    fromBlock: 2000,
  },
  swapIntoTail: {
    fields: { ...blank, event: SWAP, address: C.PAIR_RXT_WETH!, fromBlock: '10000' },
    filter: { address: C.PAIR_RXT_WETH!, topics: [eventTopic(SWAP)] },
    fromBlock: 10_000,
  },
};
const EVERY_TRANSFER: Case = {
  fields: { ...blank, event: TRANSFER, fromBlock: '0' },
  filter: { topics: [eventTopic(TRANSFER)] },
  fromBlock: 0,
};

/** Node's answers on the same data: candidate blocks and exact logs as `block:logIndex`. */
interface Answer {
  blocks: number[];
  logs: string[];
  raw: Log[];
}
const logKey = (log: Log) => `${Number(log.blockNumber)}:${Number(log.logIndex)}`;

async function nodeAnswers(cases: Case[]): Promise<Answer[]> {
  const db = new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: 'view', valueEncoding: 'view' });
  const index = await BloomIndex.open(db);
  await lastValueFrom(index.indexHeaders(ndjsonHeaders(HEADERS)), { defaultValue: undefined });
  const receipts = ndjsonLogs(LOGS);
  const answers = [];
  for (const c of cases) {
    const range = { fromBlock: c.fromBlock, toBlock: 'latest' as const };
    const blocks = await lastValueFrom(index.match(c.filter, range).pipe(toArray()));
    const raw = await lastValueFrom(index.logs(c.filter, range, { receipts }).pipe(toArray()));
    answers.push({ blocks, logs: raw.map(logKey), raw });
  }
  await db.close();
  return answers;
}

const panel = (page: Page, id: number): Locator => page.getByTestId(`panel-${id}`);
const text = async (scope: Locator | Page, testId: string) =>
  (await scope.getByTestId(testId).textContent()) ?? '';

async function fill(p: Locator, c: Case, latencyMs: number): Promise<void> {
  for (const [key, value] of Object.entries(c.fields)) await p.getByTestId(`f-${key}`).fill(value);
  await p.getByTestId('f-latency').fill(String(latencyMs));
}

/** Starts indexing an empty index and waits until it is ready (or failed). */
async function indexFromEmpty(page: Page): Promise<void> {
  await page.getByTestId('index-phase').filter({ hasText: 'empty' }).waitFor();
  await page.getByTestId('index-start').click();
  await page
    .getByTestId('index-phase')
    .filter({ hasText: /^(ready|error)$/ })
    .waitFor();
}

async function settled(p: Locator): Promise<string> {
  await p
    .getByTestId('status')
    .filter({ hasText: /^(done|error|cancelled)$/ })
    .waitFor({ timeout: 30_000 });
  return text(p, 'status');
}

/** What a panel shows: its candidate blocks and its exact logs, in the page's order. */
async function shown(p: Locator): Promise<{ blocks: number[]; logs: string[] }> {
  const blocks = await p
    .getByTestId('blocks')
    .locator('li')
    .evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.block)));
  const logs = await p
    .getByTestId('log')
    .evaluateAll((els) =>
      els.map((e) => `${(e as HTMLElement).dataset.block}:${(e as HTMLElement).dataset.logIndex}`),
    );
  return { blocks, logs };
}

const available = chromiumAvailable();
(available ? describe : describe.skip)('examples/web in chromium', () => {
  let outDir: string | undefined;
  let server: Awaited<ReturnType<typeof serveDir>> | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let answers: Answer[];
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    assertBuilt();
    const cases = [...Object.values(CASES), EVERY_TRANSFER];
    [outDir, answers] = await Promise.all([buildWeb(), nodeAnswers(cases)]);
    // The headers file as gzip bytes (the page gunzips it), the logs file gunzipped by the browser.
    server = await serveDir(outDir, /sample-logs/);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
    await page.goto(server.url);
  }, 60_000);

  afterAll(async () => {
    mkdirSync(TMP, { recursive: true });
    writeFileSync(path.join(TMP, 'browser-timings.json'), `${JSON.stringify(timings, null, 2)}\n`);
    await browser?.close();
    await server?.close();
    if (outDir !== undefined) rmSync(outDir, { recursive: true, force: true });
  });

  test('indexes the bundled sample into IndexedDB, with progress', async () => {
    await page.getByTestId('index-phase').filter({ hasText: 'empty' }).waitFor();
    await page.getByTestId('index-start').click();
    await page
      .getByTestId('index-phase')
      .filter({ hasText: /^(ready|error)$/ })
      .waitFor({ timeout: 45_000 });
    expect(await text(page, 'index-phase')).toBe('ready');
    expect(await text(page, 'index-head')).toBe(String(meta.toBlock));
    expect(await text(page, 'index-sections')).toBe('3');
    expect(await text(page, 'index-blocks-this-load')).toBe(String(meta.blocks));
    const progress = page.getByTestId('index-progress');
    expect(
      await progress.evaluate((e) => [(e as HTMLProgressElement).value, (e as HTMLProgressElement).max]),
    ).toEqual([meta.blocks, meta.blocks]);
    timings.indexSampleMs = Number(await text(page, 'index-ms'));
  });

  test('three filters, two panels at once on one matcher: the same blocks and logs as Node', async () => {
    const [demo, orLists, swap] = answers;
    await fill(panel(page, 0), CASES.demo, 0);
    await fill(panel(page, 1), CASES.orLists, 0);
    await panel(page, 0).getByTestId('run').click();
    await panel(page, 1).getByTestId('run').click();
    expect(await settled(panel(page, 0))).toBe('done');
    expect(await settled(panel(page, 1))).toBe('done');
    expect(await shown(panel(page, 0))).toEqual({ blocks: demo!.blocks, logs: demo!.logs });
    expect(await shown(panel(page, 1))).toEqual({ blocks: orLists!.blocks, logs: orLists!.logs });
    expect(demo!.logs).toHaveLength(meta.demoExpected.logs);
    // Sections scanned: the 3 committed ones and the unindexed tail; from block 2000, the same 4.
    expect(await text(panel(page, 0), 'sections')).toBe('4/4');
    expect(await text(panel(page, 1), 'sections')).toBe('4/4');
    timings.demoFirstBlockMs = Number(await text(panel(page, 0), 'first-block-ms'));
    timings.demoFirstLogMs = Number(await text(panel(page, 0), 'first-log-ms'));

    await fill(panel(page, 0), CASES.swapIntoTail, 0);
    await panel(page, 0).getByTestId('run').click();
    expect(await settled(panel(page, 0))).toBe('done');
    expect(await shown(panel(page, 0))).toEqual({ blocks: swap!.blocks, logs: swap!.logs });
    expect(swap!.blocks.at(-1)).toBeGreaterThanOrEqual(meta.sectionSize * 3); // into the unindexed tail

    // Decoded arguments, as viem decodes the Node-side logs.
    const first = swap!.raw[0]!;
    const { args } = decodeEventLog({
      abi: [parseEvent(SWAP)],
      data: first.data,
      topics: first.topics as [],
    });
    const cell = await panel(page, 0).getByTestId('log').first().locator('td.args').textContent();
    expect(cell).toContain(`amount0In=${String((args as { amount0In: bigint }).amount0In)}`);
  });

  test('the panels share one matcher: a query run again is answered from its cache, nothing is read', async () => {
    const stat = async (id: string) => Number(await text(page, id));
    const [requested, hits] = [await stat('stat-requested'), await stat('stat-hits')];
    await fill(panel(page, 1), CASES.demo, 0);
    await panel(page, 1).getByTestId('run').click();
    expect(await settled(panel(page, 1))).toBe('done');
    expect(await shown(panel(page, 1))).toEqual({ blocks: answers[0]!.blocks, logs: answers[0]!.logs });
    // The stats line is polled: wait for the hits, then no vector was asked of IndexedDB.
    await page
      .getByTestId('stat-hits')
      .filter({ hasText: new RegExp(`^(?!${hits}$)\\d+$`) })
      .waitFor();
    expect(await stat('stat-requested')).toBe(requested);
  });

  test('a bad filter or a range past the head ends in a visible error, not a silent empty answer', async () => {
    const p = panel(page, 0);
    await fill(p, { ...CASES.demo, fields: { ...CASES.demo.fields, address: '0x1234' } }, 0);
    await p.getByTestId('run').click();
    expect(await settled(p)).toBe('error');
    expect(await text(p, 'error')).toContain('0x1234');
    await fill(p, { ...CASES.demo, fields: { ...CASES.demo.fields, toBlock: '99999' } }, 0);
    await p.getByTestId('run').click();
    expect(await settled(p)).toBe('error');
    expect(await text(p, 'error')).toContain('BEYOND_HEAD');
  });

  test('Cancel unsubscribes: the stream stops and its receipts fetches are aborted', async () => {
    const every = answers[3]!;
    const p = panel(page, 1);
    await fill(p, EVERY_TRANSFER, 300);
    await p.getByTestId('run').click();
    await p
      .getByTestId('fetched')
      .filter({ hasText: /^([4-9]|\d\d+)$/ })
      .waitFor();
    expect(Number(await text(p, 'in-flight'))).toBeGreaterThan(0);
    await p.getByTestId('cancel').click();
    expect(await text(p, 'status')).toBe('cancelled');
    expect(await text(p, 'in-flight')).toBe('0');
    expect(Number(await text(p, 'aborted'))).toBeGreaterThan(0);
    const after = { logs: await text(p, 'log-count'), fetched: await text(p, 'fetched') };
    // Nothing more arrives: no fetch was left running behind the cancelled stream.
    await page.waitForTimeout(1000);
    expect({ logs: await text(p, 'log-count'), fetched: await text(p, 'fetched') }).toEqual(after);
    expect(Number(after.logs)).toBeLessThan(every.logs.length);
    // What arrived before the cancel is a prefix of the full answer.
    const { logs } = await shown(p);
    expect(logs).toEqual(every.logs.slice(0, logs.length));
  });

  test('a reload reuses the stored index: nothing is indexed again, queries answer the same', async () => {
    await page.reload();
    await page
      .getByTestId('index-phase')
      .filter({ hasText: /^(ready|empty|error)$/ })
      .waitFor();
    expect(await text(page, 'index-phase')).toBe('ready');
    expect(await text(page, 'index-head')).toBe(String(meta.toBlock));
    // Asking to index again resumes after the stored head: no block to add.
    await page.getByTestId('index-start').click();
    await page.getByTestId('index-ms').waitFor();
    expect(await text(page, 'index-blocks-this-load')).toBe('0');
    await fill(panel(page, 0), CASES.demo, 0);
    await panel(page, 0).getByTestId('run').click();
    expect(await settled(panel(page, 0))).toBe('done');
    expect(await shown(panel(page, 0))).toEqual({ blocks: answers[0]!.blocks, logs: answers[0]!.logs });
    await page.screenshot({ path: path.join(TMP, 'browser-e2e.png'), fullPage: true });
  });

  test('indexes from a JSON-RPC URL (ganache on 127.0.0.1) and answers as its eth_getLogs', async () => {
    let chain: Chain | undefined;
    try {
      chain = await startChain();
      const token = await chain.deploy();
      const [from, to] = [chain.accounts[0]!, chain.accounts[1]!];
      const transfer = {
        topics: [eventTopic(TRANSFER), padAddress(from), padAddress(to)],
        data: '0x01' as Hex,
      };
      for (let i = 0; i < 3; i++) {
        await chain.emit(token, [transfer]);
        await chain.mine(2);
      }
      const head = await chain.blockNumber();
      const expected = (await chain.getLogs({ address: token, fromBlock: '0x0', toBlock: 'latest' })).map(
        logKey,
      );

      await page.getByTestId('rpc-url').fill(chain.url);
      await page.getByTestId('use-rpc').click();
      await indexFromEmpty(page);
      expect(await text(page, 'index-phase')).toBe('ready');
      expect(await text(page, 'index-head')).toBe(String(head));

      const p = panel(page, 0);
      const byToken: Case = {
        fields: { ...blank, event: TRANSFER, address: token },
        filter: {},
        fromBlock: 0,
      };
      await fill(p, byToken, 0);
      await p.getByTestId('run').click();
      expect(await settled(p)).toBe('done');
      expect((await shown(p)).logs).toEqual(expected);
      expect(expected).toHaveLength(3);

      // An injected EIP-1193 provider (a wallet's window.ethereum; here one that forwards to ganache).
      await page.addInitScript((url) => {
        let id = 0;
        (window as unknown as { ethereum: unknown }).ethereum = {
          request: async ({ method, params }: { method: string; params?: unknown[] }) => {
            const body = JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params: params ?? [] });
            const reply = await (
              await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } })
            ).json();
            if (reply.error) throw Object.assign(new Error(reply.error.message), { code: reply.error.code });
            return reply.result;
          },
        };
      }, chain.url);
      await page.reload();
      await page.getByTestId('use-provider').click();
      await indexFromEmpty(page);
      expect(await text(page, 'index-phase')).toBe('ready');
      expect(await text(page, 'index-head')).toBe(String(head));
      await fill(p, byToken, 0);
      await p.getByTestId('run').click();
      expect(await settled(p)).toBe('done');
      expect((await shown(p)).logs).toEqual(expected);
    } finally {
      await chain?.close();
    }
  });

  test('"Clear index" deletes the stored index', async () => {
    await page.getByTestId('use-sample').click();
    await page.getByTestId('index-phase').filter({ hasText: 'ready' }).waitFor();
    await page.getByTestId('index-clear').click();
    await page.getByTestId('index-phase').filter({ hasText: 'empty' }).waitFor();
    await page.reload();
    await page
      .getByTestId('index-phase')
      .filter({ hasText: /^(ready|empty|error)$/ })
      .waitFor();
    expect(await text(page, 'index-phase')).toBe('empty');
  });
});
