/**
 * Options for a classic-level (LevelDB) database that holds an index, as the CLI opens one:
 * `new Level<Uint8Array, Uint8Array>(dir, INDEX_LEVEL_OPTIONS)`. They bound the memory a long
 * query leaves resident; other `abstract-level` backends ignore the LevelDB-only ones.
 *
 * LevelDB memory-maps every table file it opens (up to 1,000 maps on 64-bit) and unmaps one only
 * when its table cache drops it, so every page a query reads stays in the process's RSS while the
 * table stays open. With LevelDB's defaults (2 MiB tables, 1,000 open files) that is up to ~2 GB of
 * a large index; with these, at most 64 tables of 1 MiB:
 * - `maxFileSize: 1 MiB`: tables of 1 MiB (LevelDB's floor) instead of 2 MiB. Applies to the
 *   tables LevelDB writes from now on (compactions), so it belongs on the writer too.
 * - `maxOpenFiles: 74`: a table cache of 64 tables (LevelDB keeps 10 files for itself and raises
 *   any smaller value to 74). One query reads one table per queried bit at a time (30 for ten
 *   addresses), so it fits; many different queries at once reopen tables more often: raise it
 *   for a server that runs many.
 */
export const INDEX_LEVEL_OPTIONS = {
  keyEncoding: 'view',
  valueEncoding: 'view',
  maxFileSize: 1024 * 1024,
  maxOpenFiles: 74,
} as const;
