/** Bytes in a logsBloom. */
export const BLOOM_BYTE_LENGTH = 256;
/** Bits in a logsBloom (and bit vectors per section). */
export const BLOOM_BIT_LENGTH = 2048;
/** Default number of blocks per section. */
export const DEFAULT_SECTION_SIZE = 4096;
/** Default number of blocks on top of a section's last block before it is indexed. */
export const DEFAULT_CONFIRMATIONS = 256;
/** Byte length of a log address. */
export const ADDRESS_LENGTH = 20;
/** Byte length of a topic (and a block hash). */
export const HASH_LENGTH = 32;
/** Maximum number of topic positions in a filter. */
export const MAX_TOPICS = 4;
