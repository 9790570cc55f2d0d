import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { InvalidFilterError } from '../../src/errors.js';
import { filterLogs, logMatches } from '../../src/filter/filterLogs.js';
import { normalizeFilter } from '../../src/filter/normalizeFilter.js';
import type { Log, LogFilter, TopicFilter } from '../../src/types/chain.js';
import type { Hex } from '../../src/types/hex.js';

const FIXTURES = join(__dirname, '../fixtures/mainnet');

interface Query {
  id: string;
  filter: LogFilter;
  logs: number[];
}
interface RawLog extends Omit<Log, 'logIndex' | 'blockNumber'> {
  logIndex: number;
  blockNumber: number;
}

const queries: { blocks: { number: number; queries: Query[] }[] } = JSON.parse(
  readFileSync(join(FIXTURES, 'mainnet-queries.json'), 'utf8'),
);
const logsByBlock = new Map<number, RawLog[]>();
for (const line of gunzipSync(readFileSync(join(FIXTURES, 'mainnet-logs.ndjson.gz')))
  .toString('utf8')
  .split('\n')) {
  if (line.trim() === '') continue;
  const log = JSON.parse(line) as RawLog;
  const list = logsByBlock.get(log.blockNumber) ?? [];
  list.push(log);
  logsByBlock.set(log.blockNumber, list);
}

function log(address: string, topics: string[]): Log {
  return {
    address: address as Hex,
    topics: topics as Hex[],
    data: '0x',
    blockNumber: '0x1',
    blockHash: `0x${'00'.repeat(32)}`,
    transactionHash: `0x${'00'.repeat(32)}`,
    transactionIndex: '0x0',
    logIndex: '0x0',
    removed: false,
  };
}

const A = `0x${'aa'.repeat(20)}` as Hex;
const B = `0x${'bb'.repeat(20)}` as Hex;
const T1 = `0x${'11'.repeat(32)}` as Hex;
const T2 = `0x${'22'.repeat(32)}` as Hex;
const T3 = `0x${'33'.repeat(32)}` as Hex;

describe('filterLogs on real mainnet blocks', () => {
  const cases = queries.blocks.flatMap((b) => b.queries.map((q) => [b.number, q.id, q] as const));

  it('covers every block with logs', () => {
    expect(queries.blocks.length).toBe(14);
    for (const b of queries.blocks) expect(logsByBlock.get(b.number)?.length).toBeGreaterThan(0);
  });

  it.each(cases)('block %i query %s gives the expected log indexes', (number, _id, q) => {
    const logs = logsByBlock.get(number)! as unknown as Log[];
    const got = filterLogs(logs, q.filter).map((l) => Number(l.logIndex));
    expect(got).toEqual(q.logs);
  });
});

describe('filterLogs semantics', () => {
  const logs = [
    log(A, []),
    log(A, [T1]),
    log(B, [T1, T2]),
    log(A.toUpperCase().replace('0X', '0x'), [T1, T2, T3]),
  ];

  it('an empty filter matches every log', () => {
    expect(filterLogs(logs, {})).toEqual(logs);
  });

  it('rejects logs with fewer topics than filter positions, even for trailing wildcards', () => {
    expect(filterLogs(logs, { topics: [null] })).toEqual(logs.slice(1));
    expect(filterLogs(logs, { topics: [T1, null] })).toEqual(logs.slice(2));
    expect(filterLogs(logs, { topics: [null, null, null] })).toEqual(logs.slice(3));
    expect(filterLogs(logs, { topics: [null, null, null, null] })).toEqual([]);
  });

  it('accepts extra topics beyond the filter', () => {
    expect(filterLogs(logs, { topics: [T1] })).toEqual(logs.slice(1));
  });

  it('matches addresses and topics case-insensitively, OR within a position', () => {
    expect(filterLogs(logs, { address: A })).toEqual([logs[0], logs[1], logs[3]]);
    expect(filterLogs(logs, { address: [B], topics: [T1.toUpperCase().replace('0X', '0x') as Hex] })).toEqual(
      [logs[2]],
    );
    expect(filterLogs(logs, { topics: [null, [T3, T2]] })).toEqual(logs.slice(2));
  });

  it('accepts an already normalized filter', () => {
    const normalized = normalizeFilter({ address: [A, B], topics: [T1, T2] });
    expect(filterLogs(logs, normalized)).toEqual(logs.slice(2));
    expect(logMatches(logs[2]!, normalized)).toBe(true);
    expect(logMatches(logs[1]!, normalized)).toBe(false);
  });

  it('throws InvalidFilterError on a malformed filter', () => {
    expect(() => filterLogs(logs, { address: '0x1234' as Hex })).toThrow(InvalidFilterError);
    expect(() => filterLogs(logs, { topics: [null, null, null, null, null] })).toThrow(InvalidFilterError);
  });
});

// A deliberately naive reading of the eth_getLogs rules, written from the filter's raw shape.
function oracle(l: Log, f: LogFilter): boolean {
  const eq = (x: string, y: string | undefined) => y !== undefined && x.toLowerCase() === y.toLowerCase();
  const addrs = f.address == null ? [] : typeof f.address === 'string' ? [f.address] : [...f.address];
  if (addrs.length > 0 && !addrs.some((a) => eq(a, l.address))) return false;
  const positions = f.topics ?? [];
  if (positions.length > l.topics.length) return false;
  return positions.every((t: TopicFilter, i) => {
    if (t === null) return true;
    if (typeof t === 'string') return eq(t, l.topics[i]);
    if (t.length === 0 || t.includes(null)) return true;
    return t.some((x) => x !== null && eq(x, l.topics[i]));
  });
}

describe('filterLogs property', () => {
  const mixCase = (h: Hex) => fc.constantFrom(h, h.toUpperCase().replace('0X', '0x') as Hex);
  const address = fc.constantFrom(A, B, `0x${'cc'.repeat(20)}` as Hex).chain(mixCase);
  const topic = fc.constantFrom(T1, T2, T3).chain(mixCase);
  const arbLog = fc
    .record({ address, topics: fc.array(topic, { maxLength: 4 }) })
    .map((r) => log(r.address, r.topics));
  const topicFilter: fc.Arbitrary<TopicFilter> = fc.oneof(
    fc.constant(null),
    topic,
    fc.array(fc.oneof({ weight: 5, arbitrary: topic }, { weight: 1, arbitrary: fc.constant(null) }), {
      maxLength: 3,
    }),
  );
  const arbFilter: fc.Arbitrary<LogFilter> = fc.record(
    {
      address: fc.oneof(fc.constant(null), address, fc.array(address, { maxLength: 3 })),
      topics: fc.oneof(fc.constant(null), fc.array(topicFilter, { maxLength: 4 })),
    },
    { requiredKeys: [] },
  );

  it('agrees with a naive oracle', () => {
    fc.assert(
      fc.property(fc.array(arbLog, { maxLength: 20 }), arbFilter, (logs, f) => {
        expect(filterLogs(logs, f)).toEqual(logs.filter((l) => oracle(l, f)));
      }),
      { numRuns: 2000 },
    );
  });
});
