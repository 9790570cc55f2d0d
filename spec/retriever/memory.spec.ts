import type { Retriever } from '../../src/matcher/types.js';
import { vectorOf } from '../matcher/helpers.js';
import { retrieverConformance } from './conformance.js';

// A plain in-memory retriever: answers synchronously, `undefined` for a section it does not hold.
retrieverConformance('in-memory (synchronous)', async ({ world, sectionSize, sections }) => {
  const retriever: Retriever = ({ bit, sections: asked }) => [
    asked.map((s) => (s < sections ? vectorOf(world, bit, s, sectionSize) : undefined)),
  ];
  return { retriever, missing: 'undefined', close: async () => {} };
});

// The same behind a promise that settles on a later macrotask.
retrieverConformance('in-memory (asynchronous)', async ({ world, sectionSize, sections }) => {
  const retriever: Retriever = ({ bit, sections: asked }) =>
    new Promise((resolve) =>
      setTimeout(
        () => resolve(asked.map((s) => (s < sections ? vectorOf(world, bit, s, sectionSize) : undefined))),
        0,
      ),
    );
  return { retriever, missing: 'undefined', close: async () => {} };
});
