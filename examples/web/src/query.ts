/**
 * One query as the page shows it: candidate blocks section by section, the exact logs (decoded when the
 * filter came from an event signature), and the receipts fetches in flight. Unsubscribing cancels all of it.
 */
import type { BloomIndex, Log, LogsSource } from 'rx-bloombits';
import {
  asyncScheduler,
  type BehaviorSubject,
  concat,
  concatMap,
  defer,
  finalize,
  from,
  map,
  merge,
  type Observable,
  of,
  scan,
  tap,
  throttleTime,
} from 'rxjs';
import { type AbiEvent, decodeEventLog } from 'viem';
import type { ParsedQuery } from './filterForm.js';

/** A log with the event's decoded arguments (bigints as decimal strings), or why it did not decode. */
export interface ShownLog extends Log {
  args?: Record<string, string>;
  decodeError?: string;
}

export interface QueryView {
  blocks: number[];
  logs: ShownLog[];
  sectionsScanned: number;
  sectionsTotal: number;
  /** Milliseconds from subscribing to the first candidate block / the first exact log. */
  firstBlockMs?: number;
  firstLogMs?: number;
  elapsedMs: number;
}

type QueryEvent =
  | { type: 'block'; block: number }
  | { type: 'log'; log: ShownLog }
  | { type: 'scanned'; sections: number };

/** Receipts fetches of one panel: running now, answered, and abandoned by an unsubscribe. */
export interface Retrievals {
  inFlight: number;
  fetched: number;
  aborted: number;
}

/**
 * Wraps a logs source to count its fetches into `counts$`. `finalize` runs on completion, error and
 * unsubscribe alike: a fetch that ends without its answer was aborted.
 */
export function countRetrievals(source: LogsSource, counts$: BehaviorSubject<Retrievals>): LogsSource {
  const bump = (d: Partial<Retrievals>) => {
    const c = counts$.value;
    counts$.next({
      inFlight: c.inFlight + (d.inFlight ?? 0),
      fetched: c.fetched + (d.fetched ?? 0),
      aborted: c.aborted + (d.aborted ?? 0),
    });
  };
  return (block) =>
    defer(() => {
      let answered = false;
      bump({ inFlight: 1 });
      return source(block).pipe(
        tap({ next: () => (answered = true) }),
        finalize(() => bump(answered ? { inFlight: -1, fetched: 1 } : { inFlight: -1, aborted: 1 })),
      );
    });
}

/** Section-aligned chunks of [fromBlock, toBlock], `perChunk` sections each. */
export function sectionChunks(
  fromBlock: number,
  toBlock: number,
  sectionSize: number,
  perChunk: number,
): { fromBlock: number; toBlock: number; sections: number }[] {
  const chunks = [];
  for (let start = fromBlock; start <= toBlock; ) {
    const firstSection = Math.floor(start / sectionSize);
    const end = Math.min(toBlock, (firstSection + perChunk) * sectionSize - 1);
    chunks.push({
      fromBlock: start,
      toBlock: end,
      sections: Math.floor(end / sectionSize) - firstSection + 1,
    });
    start = end + 1;
  }
  return chunks;
}

export function decodeLog(log: Log, event: AbiEvent | undefined): ShownLog {
  if (event === undefined) return log;
  try {
    const { args } = decodeEventLog({ abi: [event], data: log.data, topics: log.topics as [] });
    const shown: Record<string, string> = {};
    for (const [k, v] of Object.entries(args ?? {})) shown[k] = String(v);
    return { ...log, args: shown };
  } catch (e) {
    return { ...log, decodeError: String((e as Error).message ?? e).split('\n')[0] };
  }
}

/**
 * The query's view, updated as results stream in (at most every 50 ms, and once at the end). The
 * candidate blocks run as one `index.match` per chunk of sections (so "sections scanned" moves),
 * the exact logs as one `index.logs`; both read the index's one shared matcher and cache.
 */
export function runQuery(
  index: BloomIndex,
  query: ParsedQuery,
  receipts: LogsSource,
  now: () => number = () => performance.now(),
): Observable<QueryView> {
  return defer(() => {
    const t0 = now();
    const toBlock = query.toBlock === 'latest' ? index.head : query.toBlock;
    const chunks = sectionChunks(query.fromBlock, toBlock, index.sectionSize, 1);
    const range = { fromBlock: query.fromBlock, toBlock: query.toBlock };
    const blocks$: Observable<QueryEvent> = from(chunks).pipe(
      concatMap((c) =>
        concat(
          index
            .match(query.filter, { fromBlock: c.fromBlock, toBlock: c.toBlock })
            .pipe(map((block): QueryEvent => ({ type: 'block', block }))),
          of<QueryEvent>({ type: 'scanned', sections: c.sections }),
        ),
      ),
    );
    const logs$: Observable<QueryEvent> = index
      .logs(query.filter, range, { receipts, concurrency: 4 })
      .pipe(map((log): QueryEvent => ({ type: 'log', log: decodeLog(log, query.event) })));
    const initial: QueryView = {
      blocks: [],
      logs: [],
      sectionsScanned: 0,
      sectionsTotal: chunks.reduce((n, c) => n + c.sections, 0),
      elapsedMs: 0,
    };
    return merge(blocks$, logs$).pipe(
      // The arrays grow in place (a view is replaced, its lists are not copied per event).
      scan((view, e): QueryView => {
        const t = now() - t0;
        if (e.type === 'block') {
          view.blocks.push(e.block);
          return { ...view, firstBlockMs: view.firstBlockMs ?? t, elapsedMs: t };
        }
        if (e.type === 'log') {
          view.logs.push(e.log);
          return { ...view, firstLogMs: view.firstLogMs ?? t, elapsedMs: t };
        }
        return { ...view, sectionsScanned: view.sectionsScanned + e.sections, elapsedMs: t };
      }, initial),
      throttleTime(50, asyncScheduler, { leading: true, trailing: true }),
    );
  });
}
