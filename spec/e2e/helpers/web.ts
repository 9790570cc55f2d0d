/**
 * What the browser test needs around the page: a Vite build of examples/web, a static server on
 * 127.0.0.1, and Debian's chromium driven by playwright-core (never a downloaded browser).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Browser, chromium } from 'playwright-core';

export const ROOT = path.resolve(__dirname, '../../..');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Chromium flags: headless without a GPU or sandbox (containers, CI), and none of the background
 * traffic (updates, sync, QUIC probes) that would hammer a closed network.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Whether the browser test can run. In CI a missing chromium is a failure (the test must not skip
 * there); on a dev machine it is a skip with a message saying how to get it.
 */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI === 'true')
    throw new Error(`${CHROMIUM} is missing: CI must run the browser test (.ci/run installs chromium)`);
  console.warn(
    `skipping the browser test: no chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`,
  );
  return false;
}

export function launchChromium(): Promise<Browser> {
  // playwright keeps the profile in a fresh temporary --user-data-dir of its own and removes it on close.
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/** `vite build examples/web` into a fresh temporary directory (against the built package: dist/esm). */
export async function buildWeb(): Promise<string> {
  const outDir = mkdtempSync(path.join(tmpdir(), 'rxbb-web-'));
  const vite = path.join(ROOT, 'node_modules/vite/bin/vite.js');
  const args = [vite, 'build', 'examples/web', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`vite build failed (${code}):\n${output}`);
  return outDir;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.gz': 'application/gzip',
  '.svg': 'image/svg+xml',
};

/**
 * Serves `dir` on 127.0.0.1 at a free port. A .gz file goes out as gzip bytes, as static servers
 * send it, unless its name matches `gzipEncoded`: then it is labelled `Content-Encoding: gzip`, as
 * Vite's dev server does, and the browser gunzips it before the page sees it.
 */
export async function serveDir(
  dir: string,
  gzipEncoded?: RegExp,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer(async (req, res) => {
    const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = path.join(dir, pathname === '/' ? 'index.html' : pathname);
    if (!file.startsWith(dir)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      const encoded = gzipEncoded?.test(pathname) === true;
      const type = TYPES[path.extname(file)] ?? 'application/octet-stream';
      res
        .writeHead(
          200,
          encoded ? { 'content-type': 'text/plain', 'content-encoding': 'gzip' } : { 'content-type': type },
        )
        .end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
