import { defer, finalize, Observable, Subject } from 'rxjs';
import { IndexBusyError } from '../errors.js';
import { BloomBitsGenerator } from '../generator/index.js';
import type { Matcher } from '../matcher/matcher.js';
import type { BloomBitsDb } from '../store/db.js';
import type { BloomBitsStore } from '../store/index.js';
import type { BlockHeader } from '../types/chain.js';
import { type HeaderSource, ingestHeaders, type ParsedHeader } from './ingest.js';
import { type Generation, headOf, type IndexSnapshot, tailStartOf } from './snapshot.js';
import { TailColumns } from './tailColumns.js';
import { GENESIS_KEY, type TailBlock, type TailOp, type TailStore, tailDels, tailPuts } from './tailStore.js';
import type { IndexHeadersOptions, IndexProgress } from './types.js';

/**
 * Tail blocks accepted before they are written to the db, when the source pauses.
 * While headers keep coming the tail is written only at the end: most of it gets
 * committed (and its entries deleted) first, and a crash loses at most a tail's
 * worth of headers to fetch again (committed sections are never lost).
 */
const FLUSH_EVERY = 1024;

/** The single writer of each db (an `indexHeaders` run), across every BloomIndex opened on it. */
interface WriterLock {
  /** Subscribed and not ended: a second writer is refused. */
  running: boolean;
  /** True once the run ended and its last write is done. */
  ended: boolean;
  /** Settles when `ended` becomes true. */
  done: Promise<void>;
}
const writers = new WeakMap<BloomBitsDb, WriterLock>();

/**
 * The write side of an index: owns the current {@link IndexSnapshot} and
 * replaces it on every accepted header, commit, flush and rollback; runs the
 * single `indexHeaders` writer of its db; keeps rolled-back vectors until no
 * query of an older generation may read them. Queries only read snapshots
 * (through {@link onSnapshot}).
 */
export class IndexWriter {
  private snap: IndexSnapshot;
  /** Tail entries of the current snapshot written to the db. */
  private persisted: number;
  private genesisRecorded: boolean;
  private readonly headsSubject = new Subject<BlockHeader>();
  private generations = 0;
  /** Generations older than the current one with queries still running. */
  private readonly oldGenerations = new Set<Generation>();
  private sweepPending = false;
  private sweeping: Promise<void> = Promise.resolve();
  /** A commit's write is in flight (headers are still accepted meanwhile). */
  private committing = false;
  /** The generator of every commit (reset each time), made at the first. */
  private generator: BloomBitsGenerator | undefined;

  /** `newMatcher(heads)` makes a generation's matcher, reading vectors under `heads()`. */
  constructor(
    private readonly db: BloomBitsDb,
    private readonly store: BloomBitsStore,
    private readonly tailStore: TailStore,
    /** Blocks on top of a section's last block before it is committed. */
    readonly confirmations: number,
    private readonly newMatcher: (heads: () => readonly Uint8Array[]) => Matcher,
    tail: TailBlock[],
    genesis: Uint8Array | undefined,
    genesisRecorded: boolean,
  ) {
    const heads = store.heads();
    this.snap = {
      generation: this.newGeneration(heads),
      sectionSize: store.sectionSize,
      count: heads.length,
      heads,
      tail: TailColumns.of(store.sectionSize, tail),
      tailLength: tail.length,
      genesis,
    };
    this.persisted = tail.length;
    this.genesisRecorded = genesisRecorded;
  }

  private get sectionSize(): number {
    return this.store.sectionSize;
  }

  /** The current state (immutable; a later change publishes a new one). */
  snapshot(): IndexSnapshot {
    return this.snap;
  }

  /** Every header accepted, as it is accepted. */
  get heads$(): Observable<BlockHeader> {
    return this.headsSubject.asObservable();
  }

  /** True while an `indexHeaders` run (of any writer on this db) is active. */
  get indexing(): boolean {
    return writers.get(this.db)?.running === true;
  }

  /**
   * Indexes headers in ascending order: checks parent links, keeps unconfirmed
   * blocks in the tail (written when the source pauses, and at the end), commits a
   * section in one atomic batch (with its tail clean-up) once its last block has
   * `confirmations` blocks on top, and skips blocks it already has.
   *
   * The index records its chain's block 0: a source serving another chain fails
   * with ChainError and changes nothing. On a reorg it finds the fork point
   * first (resubscribing a factory source from exponentially lower known blocks,
   * or replaying a plain source that starts at or below the fork), then rolls
   * back. A fork below the tail (rolling back committed sections) fails with
   * ChainError and changes nothing unless `allowDeepReorg` is set.
   *
   * One writer per db: a second run while one is active fails with IndexBusyError.
   */
  indexHeaders(source: HeaderSource, options: IndexHeadersOptions = {}): Observable<IndexProgress> {
    return new Observable<IndexProgress>((subscriber) => {
      const previous = writers.get(this.db);
      if (previous?.running === true) {
        subscriber.error(new IndexBusyError('another indexHeaders run is active on this db'));
        return;
      }
      let release!: () => void;
      const lock: WriterLock = { running: true, ended: false, done: new Promise<void>((r) => (release = r)) };
      writers.set(this.db, lock);
      const onSettled = () => {
        lock.running = false;
        lock.ended = true;
        release();
      };
      let inner: { unsubscribe(): void } | undefined;
      let cancelled = false;
      const begin = () => {
        if (cancelled) return onSettled();
        inner = ingestHeaders(this.writer(), source, options, onSettled).subscribe({
          next: (p) => subscriber.next(p),
          error: (e) => {
            lock.running = false;
            subscriber.error(e);
          },
          complete: () => {
            lock.running = false;
            subscriber.complete();
          },
        });
      };
      // A run unsubscribed in the middle of a write finishes that write before the next run starts.
      if (previous === undefined || previous.ended) begin();
      else void previous.done.then(begin);
      return () => {
        cancelled = true;
        lock.running = false;
        inner?.unsubscribe();
      };
    });
  }

  /** The writer side driven by the ingest loop. */
  private writer() {
    const size = this.sectionSize;
    return {
      snapshot: () => this.snap,
      accept: (h: ParsedHeader) => {
        const s = this.snap;
        const tail = s.tail;
        tail.append(h.hash, h.bloom);
        // Once per header: a literal of known shape, not a spread (which showed in profiles).
        this.snap = {
          generation: s.generation,
          sectionSize: s.sectionSize,
          count: s.count,
          heads: s.heads,
          tail,
          tailLength: s.tailLength + 1,
          genesis: h.number === 0 ? h.hash : s.genesis,
        };
        this.headsSubject.next(h.raw);
      },
      due: (idle: boolean): 'commit' | 'flush' | undefined => {
        const s = this.snap;
        const committedHead = (s.count + 1) * size - 1;
        if (s.tailLength >= size && headOf(s) - committedHead >= this.confirmations) {
          return this.committing ? undefined : 'commit';
        }
        if (idle && s.tailLength - this.persisted >= FLUSH_EVERY) return 'flush';
        return undefined;
      },
      commit: () => this.commit(),
      flush: () => this.flush(),
      rollback: (block: number) => this.rollback(block),
    };
  }

  private genesisOps(s: IndexSnapshot, includesBlock0: boolean): TailOp[] {
    if (this.genesisRecorded || !includesBlock0 || s.genesis === undefined) return [];
    return [{ type: 'put', key: GENESIS_KEY, value: s.genesis }];
  }

  private async flush(): Promise<void> {
    const s = this.snap;
    if (this.persisted >= s.tailLength) return;
    const start = tailStartOf(s);
    const puts = tailPuts(s.tail, start, this.persisted, s.tailLength);
    const ops = [...puts, ...this.genesisOps(s, start + this.persisted === 0)];
    await this.tailStore.batch(ops);
    if (ops.length > puts.length) this.genesisRecorded = true;
    this.persisted = s.tailLength;
  }

  private async commit(): Promise<void> {
    const s = this.snap;
    const size = this.sectionSize;
    const section = s.count;
    // One generator per writer: writeSection has compressed (copied) its vectors before it settles.
    const generator = this.generator ?? new BloomBitsGenerator(size);
    this.generator = generator;
    generator.reset();
    for (let i = 0; i < size; i++) generator.addBloom(i, s.tail.bloom(i));
    const head = s.tail.hash(size - 1);
    const start = section * size;
    const extra = [
      ...tailDels(start, start + Math.min(this.persisted, size)),
      ...this.genesisOps(s, section === 0),
    ];
    this.committing = true;
    try {
      await this.store.writeSection(section, head, generator.vectors(), extra);
    } finally {
      this.committing = false;
    }
    if (section === 0) this.genesisRecorded = true;
    const heads = this.store.heads();
    s.generation.heads = heads;
    this.persisted = Math.max(0, this.persisted - size);
    // Headers may have been accepted during the write: they stay in the tail.
    const now = this.snap;
    this.snap = {
      ...now,
      count: section + 1,
      heads,
      tail: now.tail.from(size),
      tailLength: now.tailLength - size,
    };
  }

  /** Drops every block at or above `block` (tail entries, and whole sections when below the tail). */
  private async rollback(block: number): Promise<void> {
    await this.sweeping;
    const s = this.snap;
    const tailStart = tailStartOf(s);
    const dels = tailDels(Math.max(block, tailStart), tailStart + this.persisted);
    if (block >= tailStart) {
      await this.tailStore.batch(dels);
      const keep = block - tailStart;
      this.persisted = Math.min(this.persisted, keep);
      this.snap = { ...s, tail: s.tail.upTo(keep), tailLength: keep };
      return;
    }
    const section = Math.floor(block / this.sectionSize);
    await this.store.rollbackTo(section, { extraOps: dels, sweep: false });
    const heads = this.store.heads();
    const old = s.generation;
    this.persisted = 0;
    this.snap = {
      ...s,
      generation: this.newGeneration(heads),
      count: section,
      heads,
      tail: new TailColumns(this.sectionSize),
      tailLength: 0,
    };
    if (old.queries > 0) this.oldGenerations.add(old);
    this.sweepPending = true;
    await this.maybeSweep();
  }

  /** Deletes rolled-back vectors once no query of an older generation may read them. */
  private maybeSweep(): Promise<void> {
    if (!this.sweepPending || this.oldGenerations.size > 0) return this.sweeping;
    this.sweepPending = false;
    this.sweeping = this.store.sweep().catch(() => {
      this.sweepPending = true; // left for the next chance; unreferenced vectors are never read
    });
    return this.sweeping;
  }

  private newGeneration(heads: readonly Uint8Array[]): Generation {
    const generation: Generation = {
      id: this.generations++,
      heads,
      queries: 0,
      matcher: undefined as never,
    };
    // Reads under the generation's heads: a vector of a rolled-back section is never served to another chain.
    (generation as { matcher: Generation['matcher'] }).matcher = this.newMatcher(() => generation.heads);
    return generation;
  }

  /** Runs `query` on the current snapshot, keeping its generation's vectors alive while it runs. */
  onSnapshot<T>(query: (s: IndexSnapshot) => Observable<T>): Observable<T> {
    return defer(() => {
      const s = this.snap;
      const generation = s.generation;
      generation.queries++;
      // The inner defer routes a throwing `query` to the subscriber; finalize releases the generation however it ends.
      return defer(() => query(s)).pipe(
        finalize(() => {
          generation.queries--;
          if (generation.queries === 0 && this.oldGenerations.delete(generation)) void this.maybeSweep();
        }),
      );
    });
  }
}
