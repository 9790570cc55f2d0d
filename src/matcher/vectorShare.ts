import { Observable, queueScheduler, Subject, type Subscriber } from 'rxjs';
import { type Delivery, type Failure, vectorKey } from './distributor.js';
import { LruCache } from './lruCache.js';

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
  /** Waits for it, with `slots[i]` the index in `waits[i].out`. */
  waits: Wait[];
  slots: number[];
  /** What the distributor was last told: someone waits for it. */
  sent: boolean;
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
  private readonly pending = new Map<number, Entry>();
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
          entry = { key, bit, section, waits: [], slots: [], sent: false };
          this.pending.set(key, entry);
        }
        if (entry.waits.length === 0) this.changed.push(entry);
        entry.waits.push(wait);
        entry.slots.push(i);
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
          const i = entry.waits.indexOf(wait);
          if (i < 0) continue;
          entry.waits.splice(i, 1);
          entry.slots.splice(i, 1);
          if (entry.waits.length === 0) this.changed.push(entry);
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
      for (let j = 0; j < entry.waits.length; j++) {
        const wait = entry.waits[j]!;
        wait.out[entry.slots[j]!] = vector;
        if (--wait.remaining === 0) (ready ??= []).push(wait);
      }
      entry.waits = [];
      entry.slots = [];
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
      for (const wait of entry.waits) failed.add(wait);
      entry.waits = [];
      entry.slots = [];
    }
    for (const wait of failed) wait.subscriber.error(failure.error);
  }

  /** The distributor stopped and forgot everything: waits still open are asked for again on {@link resume}. */
  reset(): void {
    for (const entry of this.pending.values()) {
      entry.sent = false;
      if (entry.waits.length > 0) this.changed.push(entry);
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
      const wanted = entry.waits.length > 0;
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
