/** Largest section size accepted (2 MiB vectors): beyond it a size is a typo or damage, not a choice. */
export const MAX_SECTION_SIZE = 2 ** 24;

/**
 * The one rule for a section size, shared by the generator, the store and the
 * matcher (each throws its own error): a positive multiple of 8 (vectors are
 * whole bytes) up to {@link MAX_SECTION_SIZE}.
 */
export function isSectionSize(size: unknown): size is number {
  return (
    Number.isSafeInteger(size) &&
    (size as number) > 0 &&
    (size as number) % 8 === 0 &&
    (size as number) <= MAX_SECTION_SIZE
  );
}

/** How a wrong section size is described in every error message. */
export const SECTION_SIZE_RULE = 'a positive multiple of 8 up to 2^24';
