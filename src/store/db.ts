/**
 * The part of an abstract-level database the index uses, as a structural type.
 *
 * Accepting `AbstractLevel` itself ties users to the exact abstract-level
 * version we compile against: each backend (classic-level, memory-level,
 * browser-level) ships its own copy, and their class types (`hooks`,
 * `sublevel`, `parent`) stop being mutually assignable across versions. A
 * structural interface with method syntax (parameters checked bivariantly)
 * accepts any of them, their sublevels, or a hand-written adapter.
 *
 * Every call passes `keyEncoding: 'view'` and `valueEncoding: 'view'`: keys and
 * values are `Uint8Array`s whatever the db's default encodings are.
 */

/** An explicit snapshot of the db (only used when `supports.explicitSnapshots`). */
export interface BloomBitsDbSnapshot {
  close(): Promise<void>;
}

/** Binary encodings, and optionally an explicit snapshot to read from. */
export interface BloomBitsDbReadOptions {
  keyEncoding: 'view';
  valueEncoding: 'view';
  /** A snapshot from `db.snapshot()`; `any` because each backend's options name its own snapshot class. */
  // biome-ignore lint/suspicious/noExplicitAny: see above
  snapshot?: any;
}

/** A key range (abstract-level's range options) with binary encodings. */
export interface BloomBitsDbRangeOptions {
  keyEncoding: 'view';
  valueEncoding?: 'view';
  // biome-ignore lint/suspicious/noExplicitAny: as in BloomBitsDbReadOptions
  snapshot?: any;
  gt?: Uint8Array;
  gte?: Uint8Array;
  lt?: Uint8Array;
  lte?: Uint8Array;
  limit?: number;
}

/** One put or del of an atomic batch. */
export type BloomBitsDbBatchOp =
  | { type: 'put'; key: Uint8Array; value: Uint8Array }
  | { type: 'del'; key: Uint8Array };

/** An abstract-level iterator: `next()` until `undefined`, then `close()`; or `for await`. */
export interface BloomBitsDbIterator<T> extends AsyncIterable<T> {
  next(): Promise<T | undefined>;
  close(): Promise<void>;
}

/**
 * A database the index can use: any abstract-level 2.x/3.x database or sublevel
 * (`ClassicLevel`, `MemoryLevel`, `BrowserLevel`, `Level`, `db.sublevel(...)`).
 * Keys and values are read and written as `Uint8Array`.
 */
export interface BloomBitsDb {
  /** `'open'` when usable; the store opens a db that is not open yet. */
  readonly status: string;
  readonly supports: { readonly explicitSnapshots?: boolean };
  open(): Promise<void>;
  get(key: Uint8Array, options: BloomBitsDbReadOptions): Promise<Uint8Array | undefined>;
  getMany(keys: Uint8Array[], options: BloomBitsDbReadOptions): Promise<(Uint8Array | undefined)[]>;
  batch(operations: BloomBitsDbBatchOp[], options: BloomBitsDbReadOptions): Promise<void>;
  iterator(options: BloomBitsDbRangeOptions): BloomBitsDbIterator<[Uint8Array, Uint8Array]>;
  keys(options: BloomBitsDbRangeOptions): AsyncIterable<Uint8Array>;
  clear(options: BloomBitsDbRangeOptions): Promise<void>;
  snapshot(): BloomBitsDbSnapshot;
}
