import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDb } from '../../src/cli/openDb.js';
import { INDEX_LEVEL_OPTIONS } from '../../src/index.js';

// The options each `new Level(...)` got (the real Level still opens the db).
const mockConstructed: Record<string, unknown>[] = [];
jest.mock('level', () => {
  const actual = jest.requireActual('level');
  class Level extends actual.Level {
    constructor(location: string, options: Record<string, unknown>) {
      super(location, options);
      mockConstructed.push(options);
    }
  }
  return { ...actual, Level };
});

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rxbb-opendb-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('opens for writing and for reading with INDEX_LEVEL_OPTIONS', async () => {
  const at = path.join(dir, 'options');
  mockConstructed.length = 0;
  await (await openDb(at, true)).close();
  await (await openDb(at, false)).close();
  expect(mockConstructed).toEqual([
    { ...INDEX_LEVEL_OPTIONS, createIfMissing: true },
    { ...INDEX_LEVEL_OPTIONS, createIfMissing: false },
  ]);
  expect(INDEX_LEVEL_OPTIONS).toMatchObject({ maxFileSize: 1024 * 1024, maxOpenFiles: 74 });
});

it('LevelDB writes tables of at most ~1 MiB through it (2 MiB without the option)', async () => {
  const at = path.join(dir, 'tables');
  const db = await openDb(at, true);
  try {
    // Twice 3 MiB of incompressible values (Snappy would shrink anything else), on interleaved
    // keys: the second flush overlaps the first, so compaction rewrites both (a lone table is
    // only moved down a level, whatever its size).
    const compact = db as unknown as { compactRange(a: Uint8Array, b: Uint8Array): Promise<void> };
    for (const odd of [0, 1]) {
      const batch = db.batch();
      for (let i = 0; i < 6 * 1024; i++)
        batch.put(Uint8Array.of(i >> 7, ((i & 127) << 1) | odd), randomBytes(512));
      await batch.write();
      await compact.compactRange(Uint8Array.of(0), Uint8Array.of(0xff, 0xff, 0xff));
    }
  } finally {
    await db.close();
  }
  const tables = (await readdir(at)).filter((f) => f.endsWith('.ldb'));
  const sizes = await Promise.all(tables.map(async (f) => (await stat(path.join(at, f))).size));
  expect(sizes.reduce((a, b) => a + b, 0)).toBeGreaterThan(6 * 1024 * 1024);
  expect(Math.max(...sizes)).toBeLessThan(1.2 * 1024 * 1024);
});
