import { applyFilterFlags, decodeLog, parseTopicArg } from '../../src/cli/filterArgs.js';
import { InvalidFilterError } from '../../src/errors.js';
import { eventTopic, padAddress, parseEvent } from '../../src/filter/topics.js';

const TRANSFER = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef';
const A = '0x00000000000000000000000000000000000000aA';

it('padAddress and eventTopic speak the ABI', () => {
  expect(padAddress(A)).toBe(`0x${'0'.repeat(62)}aa`);
  expect(() => padAddress('0x1234')).toThrow(InvalidFilterError);
  expect(eventTopic('Transfer(address,address,uint256)')).toBe(TRANSFER);
  expect(eventTopic('event Transfer(address indexed from, address indexed to, uint256 value)')).toBe(
    TRANSFER,
  );
  expect(() => eventTopic('Foo(uint256) anonymous')).toThrow(/anonymous/);
  expect(() => parseEvent('Transfer(')).toThrow(InvalidFilterError);
});

it('applyFilterFlags fills open positions and refuses to say one twice', () => {
  const conflict = (what: string): never => {
    throw new Error(what);
  };
  const event = parseEvent('Transfer(address indexed from, address indexed to, uint256 value)');
  expect(applyFilterFlags({}, { event, topics: [undefined, undefined, parseTopicArg(A)] }, conflict)).toEqual(
    {
      topics: [TRANSFER, null, padAddress(A)],
    },
  );
  expect(
    applyFilterFlags({ topics: [null, TRANSFER] }, { topics: [parseTopicArg('null')] }, conflict),
  ).toEqual({
    topics: [null, TRANSFER],
  });
  expect(() => applyFilterFlags({ address: A }, { address: [A], topics: [] }, conflict)).toThrow(/--address/);
});

it('decodeLog names the event and its args; a log of another layout keeps its fields and says why', () => {
  const event = parseEvent('Transfer(address indexed from, address indexed to, uint256 value)');
  const log = {
    address: A,
    topics: [TRANSFER, padAddress(A), padAddress(A)],
    data: `0x${(10n ** 30n).toString(16).padStart(64, '0')}`,
    blockNumber: '0x1',
    blockHash: `0x${'11'.repeat(32)}`,
    transactionHash: `0x${'22'.repeat(32)}`,
    transactionIndex: '0x0',
    logIndex: '0x0',
    removed: false,
  } as never;
  expect(decodeLog(log, event)).toMatchObject({
    eventName: 'Transfer',
    args: { value: (10n ** 30n).toString() },
  });
  // ERC-721 Transfer: same topic0, the token id indexed, no data
  const nft = {
    ...(log as object),
    topics: [TRANSFER, padAddress(A), padAddress(A), padAddress(A)],
    data: '0x',
  };
  const decoded = decodeLog(nft as never, event);
  expect(decoded.args).toBeUndefined();
  expect(decoded.decodeError).toEqual(expect.any(String));
  expect(decoded.topics).toHaveLength(4);
});
