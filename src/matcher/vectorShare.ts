import { Observable, queueScheduler, Subject, type Subscriber } from 'rxjs';
import { type Delivery, type Failure, vectorKey } from './distributor.js';
import { LruCache } from './lruCache.js';
import { VectorKeyMap } from './vectorKeyMap.js';

/** What the share tells the distributor: someone waits for these (bit, section)s now, or nobody does any more. */
export type WantEvent =
  | { type: 'request'; bit: number; sections: readonly number[] }
  | { type: 'cancel'; bit: number; sections: readonly number[] };

/** One subscription to {@link VectorShare.vectors}: fills `out` and emits it when nothing is missing. */
interface Wait {
  readonly out: Uint8Array[];
  remaining: number;
  readonly subscriber: Subscriber<Uint8Array[]>;
}

/** A (bit, section) not in the cache that someone waits for, or that the distributor still thinks someone does. */
interface Entry {
  readonly key: number;
  readonly bit: number;
  readonly section: number;
  /** Waits for it: `count` of them, the first inline with `slot` its index in `wait.out` (most entries have one). */
  count: number;
  wait: Wait | undefined;
  slot: number;
  /** The others, as alternating wait, slot. */
  more: (Wait | number)[] | undefined;
  /** What the distributor was last told: someone waits for it. */
  sent: boolean;
}

function addWait(entry: Entry, wait: Wait, slot: number): void {
  if (entry.count++ === 0) {
    entry.wait = wait;
    entry.slot = slot;
  } else (entry.more ??= []).push(wait, slot);
}

/** Removes `wait`'s place in `entry`; false when it has none. */
function removeWait(entry: Entry, wait: Wait): boolean {
  const more = entry.more;
  if (entry.wait === wait) {
    if (more !== undefined && more.length > 0) {
      // The next one moves up, so waits stay in the order they came.
      entry.wait = more[0] as Wait;
      entry.slot = more[1] as number;
      more.splice(0, 2);
    } else entry.wait = undefined;
  } else {
    const i = more === undefined ? -1 : more.indexOf(wait);
    if (i < 0) return false;
    more!.splice(i, 2);
  }
  entry.count--;
  return true;
}

function clearWaits(entry: Entry): void {
  entry.count = 0;
  entry.wait = undefined;
  entry.more = undefined;
}

/**
 * The shared, replaying, deduplicating side of retrieval. {@link vectors} hands out,
 * per (bit, batch of sections), a cold Observable of the batch's vectors: cached ones
 * are replayed at once (LRU bounded by `cacheBytes`), and every (bit, section) that is
 * missing is shared by all its waits across subscriptions, so it is asked of the
 * distributor once. Unsubscribing withdraws the waits.
 *
 * {@link wants$} is the distributor's `requests$` and `cancels$`: the changes of the set
 * of wanted (bit, section)s, coalesced per turn of the `queueScheduler` trampoline (a
 * query that leaves and a batch that arrives in the same turn cancel out, and a
 * teardown withdraws all its waits in one go), cancels before requests.
 *
 * ```
 * vectors(7, [0, 1]):  ^------------(V|)      share of 7:0 and 7:1
 * vectors(7, [1]):     ---^---------(W|)      joins 7:1, asks nothing
 * wants$:              r(7:0,1)---------      one request for both
 * deliver:             -------------Δ(7:0,1)
 * ```
 */
export class VectorShare {
  private readonly cache: LruCache;
  private readonly pending = new VectorKeyMap<Entry>();
  private changed: Entry[] = [];
  private scheduled = false;
  private readonly wants = new Subject<WantEvent>();
  private hits = 0;

  /** The changes of the wanted set, as request and cancel events. */
  readonly wants$: Observable<WantEvent> = this.wants.asObservable();

  constructor(cacheBytes: number) {
    this.cache = new LruCache(cacheBytes);
  }

  /** Vectors answered from the cache so far. */
  get cacheHits(): number {
    return this.hits;
  }
  get cachedVectors(): number {
    return this.cache.size;
  }
  get cachedBytes(): number {
    return this.cache.bytes;
  }

  /**
   * The vectors of `sections` of `bit`, in section order: emits once and completes,
   * or errors with the RetrievalError of a section given up on.
   *
   * ```
   * cached:   (V|)        every section in the cache
   * missing:  ----(V|)    when the last one is delivered
   * failed:   ----#       RetrievalError
   * ```
   */
  vectors(bit: number, sections: readonly number[]): Observable<Uint8Array[]> {
    return new Observable<Uint8Array[]>((subscriber) => {
      const out: Uint8Array[] = new Array(sections.length);
      const wait: Wait = { out, remaining: 0, subscriber };
      let entries: Entry[] | undefined;
      for (let i = 0; i < sections.length; i++) {
        const section = sections[i]!;
        const key = vectorKey(bit, section);
        const cached = this.cache.get(key);
        if (cached !== undefined) {
          out[i] = cached;
          this.hits++;
          continue;
        }
        let entry = this.pending.get(key);
        if (entry === undefined) {
          entry = { key, bit, section, count: 0, wait: undefined, slot: 0, more: undefined, sent: false };
          this.pending.set(key, entry);
        }
        if (entry.count === 0) this.changed.push(entry);
        addWait(entry, wait, i);
        wait.remaining++;
        (entries ??= []).push(entry);
      }
      if (entries === undefined) {
        subscriber.next(out);
        subscriber.complete();
        return;
      }
      this.schedule();
      return () => {
        if (wait.remaining === 0) return;
        wait.remaining = 0;
        for (const entry of entries) {
          if (removeWait(entry, wait) && entry.count === 0) this.changed.push(entry);
        }
        this.schedule();
      };
    });
  }

  /** Caches the delivered vectors, then completes every wait that has all of its own. */
  deliver(delivery: Delivery): void {
    const { bit, sections, vectors } = delivery;
    let ready: Wait[] | undefined;
    for (let i = 0; i < sections.length; i++) {
      const vector = vectors[i];
      if (vector === undefined) continue;
      const key = vectorKey(bit, sections[i]!);
      this.cache.set(key, vector);
      const entry = this.pending.get(key);
      if (entry === undefined) continue;
      // Delivered: the distributor is done with it, whatever it was last told.
      this.pending.delete(key);
      entry.sent = false;
      if (entry.wait !== undefined) {
        const wait = entry.wait;
        wait.out[entry.slot] = vector;
        if (--wait.remaining === 0) (ready ??= []).push(wait);
      }
      const more = entry.more;
      if (more !== undefined)
        for (let j = 0; j < more.length; j += 2) {
          const wait = more[j] as Wait;
          wait.out[more[j + 1] as number] = vector;
          if (--wait.remaining === 0) (ready ??= []).push(wait);
        }
      clearWaits(entry);
    }
    if (ready === undefined) return;
    for (const wait of ready) {
      wait.subscriber.next(wait.out);
      wait.subscriber.complete();
    }
  }

  /** Errors every wait for a section given up on. */
  fail(failure: Failure): void {
    const failed = new Set<Wait>();
    for (const section of failure.sections) {
      const key = vectorKey(failure.bit, section);
      const entry = this.pending.get(key);
      if (entry === undefined) continue;
      this.pending.delete(key);
      entry.sent = false;
      if (entry.wait !== undefined) failed.add(entry.wait);
      if (entry.more !== undefined)
        for (let j = 0; j < entry.more.length; j += 2) failed.add(entry.more[j] as Wait);
      clearWaits(entry);
    }
    for (const wait of failed) wait.subscriber.error(failure.error);
  }

  /** The distributor stopped and forgot everything: waits still open are asked for again on {@link resume}. */
  reset(): void {
    for (const entry of this.pending.values()) {
      entry.sent = false;
      if (entry.count > 0) this.changed.push(entry);
      else this.pending.delete(entry.key);
    }
  }

  /** The distributor (re)started: tell it what is wanted. */
  resume(): void {
    this.schedule();
  }

  clearCache(): void {
    this.cache.clear();
  }

  private schedule(): void {
    if (this.scheduled || this.changed.length === 0) return;
    this.scheduled = true;
    queueScheduler.schedule(() => this.flush());
  }

  /** Tells the distributor what changed since the last flush: cancels first, so queues are pruned before dispatch. */
  private flush(): void {
    this.scheduled = false;
    const changed = this.changed;
    this.changed = [];
    let requests: Map<number, number[]> | undefined;
    let cancels: Map<number, number[]> | undefined;
    for (const entry of changed) {
      const wanted = entry.count > 0;
      if (wanted !== entry.sent && this.pending.get(entry.key) === entry) {
        entry.sent = wanted;
        const byBit = wanted ? (requests ??= new Map()) : (cancels ??= new Map());
        let sections = byBit.get(entry.bit);
        if (sections === undefined) byBit.set(entry.bit, (sections = []));
        sections.push(entry.section);
      }
      if (!wanted && !entry.sent && this.pending.get(entry.key) === entry) this.pending.delete(entry.key);
    }
    if (cancels) for (const [bit, sections] of cancels) this.wants.next({ type: 'cancel', bit, sections });
    if (requests) for (const [bit, sections] of requests) this.wants.next({ type: 'request', bit, sections });
  }
}
