import { bloomIndexes } from '../../src/bloom/keys.js';
import { InvalidFilterError } from '../../src/errors.js';
import { compileFilter } from '../../src/filter/compileFilter.js';

const TRANSFER = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef' as const;
const A1 = `0x${'11'.repeat(20)}` as const;
const A2 = `0x${'22'.repeat(20)}` as const;
const T1 = `0x${'aa'.repeat(32)}` as const;
const idx = (h: string) => bloomIndexes(Buffer.from(h.slice(2), 'hex'));

describe('compileFilter', () => {
  it('uses real bloom indexes (geth check vectors)', () => {
    expect(bloomIndexes(Buffer.from(TRANSFER.slice(2), 'hex'))).toEqual([1443, 481, 1060]);
    expect(bloomIndexes(new Uint8Array(20))).toEqual([896, 1975, 1665]);
    expect(bloomIndexes(new Uint8Array(32))).toEqual([269, 1241, 1163]);
    expect(compileFilter({ topics: [TRANSFER] })).toEqual([[[1443, 481, 1060]]]);
  });

  it('address group first, then one group per non-wildcard topic position, in order', () => {
    expect(compileFilter({ address: [A1, A2], topics: [TRANSFER, null, T1] })).toEqual([
      [idx(A1), idx(A2)],
      [[1443, 481, 1060]],
      [idx(T1)],
    ]);
    expect(compileFilter({ address: A1 })).toEqual([[idx(A1)]]);
    expect(compileFilter({ topics: [null, [T1, TRANSFER]] })).toEqual([[idx(T1), [1443, 481, 1060]]]);
  });

  it('null, [] and lists containing null are wildcards; trailing wildcards add nothing', () => {
    expect(compileFilter({})).toEqual([]);
    expect(compileFilter({ address: null, topics: null })).toEqual([]);
    expect(compileFilter({ address: [], topics: [[], null, [T1, null]] })).toEqual([]);
    expect(compileFilter({ topics: [T1, null, null, null] })).toEqual([[idx(T1)]]);
  });

  it('accepts mixed case and dedups repeated keys', () => {
    expect(compileFilter({ address: [A1, A1.toUpperCase().replace('0X', '0x') as never] })).toEqual([
      [idx(A1)],
    ]);
  });

  it.each([
    ['short address', { address: `0x${'11'.repeat(19)}` }],
    ['long address in a list', { address: [A1, `0x${'11'.repeat(21)}`] }],
    ['short topic', { topics: [`0x${'aa'.repeat(31)}`] }],
    ['address-length topic', { topics: [null, A1] }],
    ['five topic positions', { topics: [null, null, null, null, null] }],
    ['bad hex', { topics: [`0x${'zz'.repeat(32)}`] }],
    ['no 0x', { address: '11'.repeat(20) }],
  ])('%s is an InvalidFilterError', (_, filter) => {
    expect(() => compileFilter(filter as never)).toThrow(InvalidFilterError);
  });
});
