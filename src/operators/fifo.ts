/**
 * A FIFO with amortised O(1) shift, for backlogs of millions of items (the
 * operators' inputs, the ingest loop's headers). Consumed slots are cleared at
 * once (so their items can be collected) and compacted away in bulk.
 */
export class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The oldest item; the queue must not be empty. */
  shift(): T {
    const item = this.items[this.head] as T;
    this.items[this.head++] = undefined;
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    if (this.head === this.items.length) this.clear();
    return item;
  }

  /** Puts `items` back at the front, in their order (a replay). */
  unshiftAll(items: readonly T[]): void {
    this.items = [...items, ...this.items.slice(this.head)];
    this.head = 0;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}
