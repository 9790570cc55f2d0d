import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CliError } from '../src/cli/openDb.js';
import * as api from '../src/index.js';
import { BloomBitsError } from '../src/index.js';

type ErrorClass = (abstract new (...args: never[]) => BloomBitsError) & { code: string };

/** Every class the package exports that is (or extends) BloomBitsError, plus the CLI's. */
const classes: [string, ErrorClass][] = [
  ...Object.entries(api as Record<string, unknown>).filter(
    (e): e is [string, ErrorClass] =>
      typeof e[1] === 'function' && (e[1] === BloomBitsError || e[1].prototype instanceof BloomBitsError),
  ),
  ['CliError', CliError as unknown as ErrorClass],
];

/** One instance of each class, built with plausible arguments. A new class must be added here. */
const samples: Record<string, () => BloomBitsError> = {
  BloomBitsError: () => new api.BloomBitsError('m'),
  InvalidHexError: () => new api.InvalidHexError('m', '0xz'),
  InvalidFilterError: () => new api.InvalidFilterError('m'),
  InvalidRangeError: () => new api.InvalidRangeError('m'),
  DecompressError: () => new api.DecompressError('missingData'),
  GeneratorError: () => new api.GeneratorError('m'),
  MissingSectionError: () => new api.MissingSectionError('m', 3, 7),
  CorruptDataError: () => new api.CorruptDataError('m', { bit: 1 }),
  DatabaseClosedError: () => new api.DatabaseClosedError('m'),
  RetrievalError: () => new api.RetrievalError(1, [2, 3], new Error('x')),
  ChainError: () => new api.ChainError('m'),
  SourceError: () => new api.SourceError('m', true),
  JsonRpcError: () => new api.JsonRpcError('eth_getLogs', -32005, 'limit', true),
  InvalidBloomError: () => new api.InvalidBloomError('m'),
  StoreError: () => new api.StoreError('m'),
  InvalidOptionError: () => new api.InvalidOptionError('workers', 'must be positive'),
  IndexBusyError: () => new api.IndexBusyError('m'),
  BeyondHeadError: () => new api.BeyondHeadError('m', 10, 20),
  BlockNotFoundError: () => new api.BlockNotFoundError('m', 5, '0xab'),
  CliError: () => new CliError('m', 2),
};

describe('error codes', () => {
  it('finds the exported error classes', () => {
    expect(classes.length).toBeGreaterThanOrEqual(19);
    expect(classes.map(([name]) => name).sort()).toEqual(Object.keys(samples).sort());
  });

  it.each(classes)('%s has a non-empty upper-case code and its own name', (name, cls) => {
    expect(cls.code).toMatch(/^[A-Z][A-Z_]*$/);
    const err = samples[name]!();
    expect(err).toBeInstanceOf(cls);
    expect(err).toBeInstanceOf(BloomBitsError);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe(name);
    expect(err.code).toBe(cls.code);
    expect(String(err)).toMatch(new RegExp(`^${name}: `));
  });

  it('gives every class a distinct code', () => {
    const codes = classes.map(([, cls]) => cls.code);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('keeps the documented codes (they are public API and never change)', () => {
    expect(Object.fromEntries(classes.map(([name, cls]) => [name, cls.code]))).toEqual({
      BloomBitsError: 'BLOOMBITS',
      InvalidHexError: 'INVALID_HEX',
      InvalidFilterError: 'INVALID_FILTER',
      InvalidRangeError: 'INVALID_RANGE',
      DecompressError: 'DECOMPRESS',
      GeneratorError: 'GENERATOR',
      MissingSectionError: 'MISSING_SECTION',
      CorruptDataError: 'CORRUPT_DATA',
      DatabaseClosedError: 'DATABASE_CLOSED',
      RetrievalError: 'RETRIEVAL_FAILED',
      ChainError: 'CHAIN',
      SourceError: 'SOURCE',
      JsonRpcError: 'JSON_RPC',
      InvalidBloomError: 'INVALID_BLOOM',
      StoreError: 'STORE',
      InvalidOptionError: 'INVALID_OPTION',
      IndexBusyError: 'INDEX_BUSY',
      BeyondHeadError: 'BEYOND_HEAD',
      BlockNotFoundError: 'BLOCK_NOT_FOUND',
      CliError: 'CLI',
    });
  });

  it('keeps the fields that carried other codes under their own names', () => {
    const d = new api.DecompressError('zeroContent');
    expect({ code: d.code, reason: d.reason }).toEqual({ code: 'DECOMPRESS', reason: 'zeroContent' });
    const j = new api.JsonRpcError('m', -32601, 'x', false);
    expect({ code: j.code, rpcCode: j.rpcCode }).toEqual({ code: 'JSON_RPC', rpcCode: -32601 });
    expect(j).toBeInstanceOf(api.SourceError);
  });

  it('a subclass declared by a user inherits its parent code unless it declares its own', () => {
    class Mine extends api.StoreError {}
    expect(new Mine('m').code).toBe('STORE');
  });
});

describe('bad input to public functions raises a BloomBitsError', () => {
  it.each([-1, 1.5, Number.NaN])('decompressBytes with targetLength %p: InvalidOptionError', (n) => {
    expect(() => api.decompressBytes(new Uint8Array(0), n)).toThrow(api.InvalidOptionError);
  });

  it('sectionChecksum over the wrong number of values: InvalidOptionError', () => {
    expect(() => api.sectionChecksum(4096, 0, new Uint8Array(32), [new Uint8Array(1)])).toThrow(
      api.InvalidOptionError,
    );
  });
});

/** Plain built-in errors left in src/: internal invariant failures only (file → count). */
const INVARIANTS: Record<string, number> = {
  'src/matcher/distributor.ts': 1, // an outcome for a task the distributor never issued
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

it('src/ raises no plain RangeError/TypeError/SyntaxError/Error except the listed internal invariants', () => {
  const root = join(__dirname, '..');
  const found: Record<string, number> = {};
  for (const file of sourceFiles(join(root, 'src'))) {
    const text = readFileSync(file, 'utf8');
    const hits = [
      ...(text.match(/throw new (?:RangeError|TypeError|SyntaxError|Error)\(/g) ?? []),
      // Built-in errors made to be handed on (subscriber.error, reject, throwError) count too.
      ...(text.match(/(?<!throw )new (?:RangeError|TypeError|SyntaxError)\(/g) ?? []),
    ];
    if (hits.length > 0) found[relative(root, file)] = hits.length;
  }
  expect(found).toEqual(INVARIANTS);
});
