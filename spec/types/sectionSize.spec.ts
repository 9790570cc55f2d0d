import { GeneratorError, InvalidOptionError, StoreError } from '../../src/errors.js';
import { BloomBitsGenerator } from '../../src/generator/index.js';
import { createMatcher } from '../../src/matcher/matcher.js';
import { checkSectionSize } from '../../src/store/meta.js';
import { isSectionSize, MAX_SECTION_SIZE } from '../../src/types/sectionSize.js';

describe('one section-size rule for generator, store and matcher', () => {
  const matcher = (sectionSize: number) => createMatcher({ sectionSize, retriever: () => [] });

  test.each([0, -8, 7, 12, 8.5, Number.NaN, MAX_SECTION_SIZE + 8, 2 ** 60])(
    '%p is refused by all three',
    (size) => {
      expect(isSectionSize(size)).toBe(false);
      // Before the shared rule, the generator and the matcher accepted sizes past 2^24
      // (the generator then failed with a plain allocation error).
      expect(() => new BloomBitsGenerator(size)).toThrow(GeneratorError);
      expect(() => checkSectionSize(size)).toThrow(StoreError);
      expect(() => matcher(size)).toThrow(InvalidOptionError);
    },
  );

  test.each([8, 64, 4096])('%p is accepted by all three', (size) => {
    expect(isSectionSize(size)).toBe(true);
    expect(new BloomBitsGenerator(size).sectionSize).toBe(size);
    expect(() => checkSectionSize(size)).not.toThrow();
    expect(matcher(size).sectionSize).toBe(size);
  });
});
