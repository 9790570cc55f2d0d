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
 *   tables compactions write from now on, so it belongs on the writer too (the newest tables,
 *   flushed from the 4 MiB write buffer, stay larger until compacted).
 * - `maxOpenFiles: 74`: a table cache of 64 tables (LevelDB keeps 10 files for itself and raises
 *   any smaller value to 74). One query reads about one table per queried bit at a time (30 for
 *   ten addresses): a 30-bit query over 5,000 sections of dense vectors measured ~10–15% more CPU
 *   (tables reopened), none over 1,000. Five different 30-bit queries at once took ~25% more:
 *   raise it for a server that runs many (each open table can keep up to 1 MiB resident).
 */
export const INDEX_LEVEL_OPTIONS = {
  keyEncoding: 'view',
  valueEncoding: 'view',
  maxFileSize: 1024 * 1024,
  maxOpenFiles: 74,
} as const;
