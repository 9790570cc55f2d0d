import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

/**
 * The layering the project promises, checked on the source: data flows one way.
 * types (vocabulary) ← bloom/bitutil/filter ← matcher, store ← query, indexer ← BloomIndex ← cli.
 */
const SRC = join(__dirname, '..', 'src');

/** Every .ts file below src/, relative to it (posix separators). */
function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

const IMPORT_RE =
  /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The src/-relative files `file` imports (relative specifiers only; `.js` read as `.ts`). */
function importsOf(file: string, text = readFileSync(file, 'utf8')): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT_RE)) {
    const spec = m[1] ?? m[2]!;
    if (!spec.startsWith('.')) continue;
    out.push(
      relative(SRC, normalize(join(dirname(file), spec)))
        .replace(/\\/g, '/')
        .replace(/\.js$/, '.ts'),
    );
  }
  return out;
}

const graph = sourceFiles().map((file) => ({
  file: relative(SRC, file).replace(/\\/g, '/'),
  imports: importsOf(file),
}));

const folder = (path: string): string => (path.includes('/') ? path.slice(0, path.indexOf('/')) : '');

/** Import edges from files of `from` (a folder, or '' for src/ itself) into `to`, as "a -> b". */
function edges(from: (file: string) => boolean, to: (target: string) => boolean): string[] {
  return graph.flatMap(({ file, imports }) =>
    from(file) ? imports.filter(to).map((target) => `${file} -> ${target}`) : [],
  );
}

const inFolder =
  (...names: string[]) =>
  (path: string) =>
    names.includes(folder(path));

describe('architecture', () => {
  test('the import reader sees the edges it must judge', () => {
    const sample = "import { a } from './x.js';\nexport * from '../y/z.js';\nconst m = import('./w.js');";
    expect(importsOf(join(SRC, 'matcher', 'f.ts'), sample)).toEqual([
      'matcher/x.ts',
      'y/z.ts',
      'matcher/w.ts',
    ]);
    expect(graph.length).toBeGreaterThan(50);
    expect(edges(inFolder('query'), inFolder('matcher')).length).toBeGreaterThan(0);
  });

  test('the matcher imports neither the store nor the sources', () => {
    expect(edges(inFolder('matcher'), inFolder('store', 'sources', 'indexer', 'query', 'cli'))).toEqual([]);
  });

  test('the store does not import the matcher, the indexer or the queries', () => {
    expect(edges(inFolder('store'), inFolder('matcher', 'indexer', 'query', 'sources', 'cli'))).toEqual([]);
  });

  test('no library file imports the CLI', () => {
    expect(edges((f) => folder(f) !== 'cli', inFolder('cli'))).toEqual([]);
  });

  test('src/types imports nothing above it (only itself, errors and constants)', () => {
    const allowed = (t: string) => folder(t) === 'types' || t === 'errors.ts' || t === 'constants.ts';
    expect(edges(inFolder('types'), (t) => !allowed(t))).toEqual([]);
  });

  test('the vocabulary below the matcher (bloom, bitutil, filter, operators) imports no layer above it', () => {
    const above = inFolder('matcher', 'store', 'sources', 'indexer', 'query', 'cli', 'generator');
    expect(edges(inFolder('bloom', 'bitutil', 'filter', 'operators', 'types'), above)).toEqual([]);
  });

  test('the queries do not import the indexer writer, and the indexer does not import the queries', () => {
    expect(edges(inFolder('query'), (t) => t === 'indexer/writer.ts')).toEqual([]);
    expect(edges(inFolder('indexer'), inFolder('query'))).toEqual([]);
  });
});
