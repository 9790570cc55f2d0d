import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const repo = fileURLToPath(new URL('../..', import.meta.url));

// In your own app `npm install rx-bloombits rxjs level events` replaces this alias: here the page imports
// the package by name and gets this repo's built ES module entry (`npm run build` first), exactly the file
// package.json "exports" hands a bundler.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  resolve: { alias: [{ find: /^rx-bloombits$/, replacement: `${repo}dist/esm/index.js` }] },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 1024 },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
});
