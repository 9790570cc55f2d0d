/**
 * The page's one index: a BloomIndex on IndexedDB (through `level`, which is browser-level in a
 * browser), its state as an Observable for the UI, and the index / cancel / clear actions.
 */
import { Level } from 'level';
import { BloomIndex, type IndexInfo } from 'rx-bloombits';
import { BehaviorSubject, type Subscription, tap } from 'rxjs';
import type { ChainSource } from './sources.js';

export type IndexPhase = 'opening' | 'empty' | 'ready' | 'indexing' | 'error';

export interface IndexState {
  phase: IndexPhase;
  source: ChainSource;
  index?: BloomIndex;
  info?: IndexInfo;
  /** Highest block indexed so far and the block the current run goes to (for the progress bar). */
  head: number;
  target: number;
  /** Headers accepted since the page loaded: 0 after a reload means the stored index was reused. */
  blocksThisLoad: number;
  /** Milliseconds the last completed indexing run took. */
  indexMs?: number;
  error?: string;
}

const message = (e: unknown): string =>
  e instanceof Error ? `${(e as { code?: string }).code ?? e.name}: ${e.message}` : String(e);

export class IndexController {
  readonly state$: BehaviorSubject<IndexState>;
  private db?: Level<Uint8Array, Uint8Array>;
  private run?: Subscription;

  constructor(source: ChainSource) {
    this.state$ = new BehaviorSubject<IndexState>({
      phase: 'opening',
      source,
      head: -1,
      target: -1,
      blocksThisLoad: 0,
    });
  }

  private patch(p: Partial<IndexState>): void {
    this.state$.next({ ...this.state$.value, ...p });
  }

  /** Opens (or reopens) the source's stored index. Opening never writes. */
  async open(source: ChainSource = this.state$.value.source): Promise<void> {
    this.cancel();
    // Dropping the index first lets the panels cancel their queries before its db goes away.
    this.patch({ phase: 'opening', source, index: undefined, info: undefined, error: undefined });
    await this.db?.close();
    try {
      this.db = new Level<Uint8Array, Uint8Array>(source.dbName, {
        keyEncoding: 'view',
        valueEncoding: 'view',
      });
      const index = await BloomIndex.open(this.db);
      const info = index.info();
      this.patch({ phase: info.head < 0 ? 'empty' : 'ready', index, info, head: info.head });
    } catch (e) {
      this.patch({ phase: 'error', error: message(e) });
    }
  }

  /** Indexes the source from where the stored index stops, with progress. */
  async start(): Promise<void> {
    const { index, source } = this.state$.value;
    if (index === undefined || this.run !== undefined) return;
    this.patch({ phase: 'indexing', error: undefined });
    let target: number;
    try {
      target = await source.target();
    } catch (e) {
      this.patch({ phase: 'error', error: message(e) });
      return;
    }
    const t0 = performance.now();
    const earlier = this.state$.value.blocksThisLoad;
    this.patch({ target });
    this.run = index
      .indexHeaders(source.headers)
      .pipe(tap((p) => this.patch({ head: p.headNumber, blocksThisLoad: earlier + p.blocks })))
      .subscribe({
        error: (e: unknown) => {
          this.run = undefined;
          this.patch({ phase: 'error', error: message(e), info: index.info() });
        },
        complete: () => {
          this.run = undefined;
          const info = index.info();
          this.patch({
            phase: info.head < 0 ? 'empty' : 'ready',
            info,
            head: info.head,
            indexMs: Math.round(performance.now() - t0),
          });
        },
      });
  }

  /** Stops indexing: committed sections stay, the next run resumes after them. */
  cancel(): void {
    if (this.run === undefined) return;
    this.run.unsubscribe();
    this.run = undefined;
    const { index } = this.state$.value;
    const info = index?.info();
    this.patch({
      phase: info === undefined || info.head < 0 ? 'empty' : 'ready',
      info,
      head: info?.head ?? -1,
    });
  }

  /** Deletes the stored index of the current source. */
  async clear(): Promise<void> {
    this.cancel();
    this.patch({
      phase: 'opening',
      index: undefined,
      info: undefined,
      blocksThisLoad: 0,
      indexMs: undefined,
    });
    await this.db?.clear();
    await this.open();
  }
}
