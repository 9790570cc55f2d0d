import type { FilterFields } from './filterForm.js';
import { sampleMeta } from './sources.js';

const { contracts, topics, users } = sampleMeta;

/** Ready-made filters on the sample chain (they fill the form; any field can then be edited). */
export const presets: { name: string; fields: FilterFields }[] = [
  {
    name: 'BLM Transfer to alice (the demo filter)',
    fields: {
      event: 'Transfer(address indexed from, address indexed to, uint256 value)',
      address: contracts.BLM,
      topic1: '',
      topic2: users.alice,
      topic3: '',
      fromBlock: '0',
      toBlock: '',
    },
  },
  {
    name: 'Transfer or Approval by RXT/SEC to bob or carol, from block 2000',
    fields: {
      event: `${topics.Transfer}, ${topics.Approval}`,
      address: `${contracts.RXT}, ${contracts.SEC}`,
      topic1: '',
      topic2: `${users.bob}, ${users.carol}`,
      topic3: '',
      fromBlock: '2000',
      toBlock: '',
    },
  },
  {
    name: 'Swap on the RXT/WETH pair, blocks 10000..latest (crosses into the unindexed tail)',
    fields: {
      event:
        'Swap(address indexed sender, uint amount0In, uint amount1In, uint amount0Out, uint amount1Out, address indexed to)',
      address: contracts.PAIR_RXT_WETH,
      topic1: '',
      topic2: '',
      topic3: '',
      fromBlock: '10000',
      toBlock: '',
    },
  },
  {
    name: 'every Transfer (thousands of logs)',
    fields: {
      event: 'Transfer(address indexed from, address indexed to, uint256 value)',
      address: '',
      topic1: '',
      topic2: '',
      topic3: '',
      fromBlock: '0',
      toBlock: '',
    },
  },
];
