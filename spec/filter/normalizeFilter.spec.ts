import fc from 'fast-check';
import { InvalidFilterError, InvalidRangeError } from '../../src/errors.js';
import { compileFilter } from '../../src/filter/compileFilter.js';
import { filterLogs } from '../../src/filter/filterLogs.js';
import { normalizeFilter } from '../../src/filter/normalizeFilter.js';
import { parseBlockRange } from '../../src/types/blockNumber.js';
import type { Log, LogFilter } from '../../src/types/chain.js';
import type { Hex } from '../../src/types/hex.js';

const A = `0x${'aa'.repeat(20)}` as Hex;
const T1 = `0x${'11'.repeat(32)}` as Hex;
const T2 = `0x${'22'.repeat(32)}` as Hex;

/** Runs `f` and returns what it threw (fails the test when it does not throw). */
function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

describe('normalizeFilter: only address and topics are read', () => {
  it.each([
    ['a misspelt key', { adress: A }, /unknown filter key "adress".*address, topics/],
    ['an extra key beside valid ones', { address: A, topics: [T1], limit: 10 }, /"limit"/],
    ['fromBlock', { address: A, fromBlock: '0x0' }, /fromBlock.*second argument/],
    ['toBlock', { toBlock: 'latest' }, /toBlock.*second argument/],
    ['blockHash', { blockHash: `0x${'00'.repeat(32)}` }, /blockHash is not supported.*fromBlock, toBlock/],
    ['a look-alike of a normalized filter', { addresses: [A], topics: [] }, /"addresses".*normalizeFilter/],
  ])('%s is an InvalidFilterError naming it', (_, filter, message) => {
    for (const f of [normalizeFilter, compileFilter, (x: LogFilter) => filterLogs([], x)]) {
      const e = thrown(() => f(filter as never));
      expect(e).toBeInstanceOf(InvalidFilterError);
      expect(e.message).toMatch(message);
    }
  });

  it.each([
    ['an array', []],
    ['null', null],
    ['a string', 'x'],
  ])('%s is not a filter', (_, filter) => {
    expect(() => normalizeFilter(filter as never)).toThrow(InvalidFilterError);
    expect(() => compileFilter(filter as never)).toThrow(InvalidFilterError);
  });

  it('a normalized filter passes through as is and cannot be changed', () => {
    const n = normalizeFilter({ address: A, topics: [T1] });
    expect(normalizeFilter(n)).toBe(n);
    expect(Object.isFrozen(n) && Object.isFrozen(n.topics) && Object.isFrozen(n.addresses)).toBe(true);
  });
});

describe('normalizeFilter: holes and undefined at topic positions are wildcards', () => {
  it('a sparse topics array compiles like the same array with nulls', () => {
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point
    const sparse = [, T1, , T2] as LogFilter['topics'];
    const dense = [null, T1, null, T2];
    expect(normalizeFilter({ topics: sparse })).toEqual({
      addresses: null,
      topics: [null, [T1], null, [T2]],
    });
    expect(compileFilter({ topics: sparse })).toEqual(compileFilter({ topics: dense }));
    expect(compileFilter({ topics: [undefined, T1] as never })).toEqual(
      compileFilter({ topics: [null, T1] }),
    );
  });

  it('property: holes/undefined/null at a position give the same exact matches', () => {
    const topic = fc.constantFrom(T1, T2);
    const position = fc.oneof(fc.constant('hole'), fc.constant(undefined), fc.constant(null), topic);
    const logArb = fc.record({ address: fc.constant(A), topics: fc.array(topic, { maxLength: 4 }) });
    fc.assert(
      fc.property(
        fc.array(position, { maxLength: 4 }),
        fc.array(logArb, { maxLength: 8 }),
        (positions, raw) => {
          const sparse: unknown[] = [];
          sparse.length = positions.length;
          positions.forEach((p, i) => {
            if (p !== 'hole') sparse[i] = p;
          });
          const dense = positions.map((p) => (p === 'hole' || p === undefined ? null : p));
          const logs = raw as unknown as Log[];
          expect(filterLogs(logs, { topics: sparse as never })).toEqual(filterLogs(logs, { topics: dense }));
          expect(compileFilter({ topics: sparse as never })).toEqual(compileFilter({ topics: dense }));
        },
      ),
    );
  });
});

describe('parseBlockRange: a range that is not an object is an InvalidRangeError', () => {
  it.each([
    ['null', null],
    ['a number', 5],
    ['a string', 'latest'],
    ['an array', [0, 10]],
  ])('%s', (_, range) => {
    expect(() => parseBlockRange(range as never, 100)).toThrow(InvalidRangeError);
  });

  it('a key other than fromBlock/toBlock (e.g. a filter passed as the range) is an InvalidRangeError', () => {
    const e = thrown(() => parseBlockRange({ fromBlock: 0, address: A } as never, 100));
    expect(e).toBeInstanceOf(InvalidRangeError);
    expect(e.message).toMatch(/"address"/);
    expect(parseBlockRange({}, 100)).toEqual({ fromBlock: 0, toBlock: 100 });
    expect(parseBlockRange({ fromBlock: '0x1', toBlock: 'latest' }, 100)).toEqual({
      fromBlock: 1,
      toBlock: 100,
    });
  });
});
