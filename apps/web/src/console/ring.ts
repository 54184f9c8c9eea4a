/**
 * A fixed-capacity ring: once full, each push drops the oldest item. `total` counts every push ever, so a
 * caller can tell how many were dropped. Indexes run from the oldest kept (0) to the newest (size - 1).
 */
export class Ring<T> {
  private readonly items: (T | undefined)[];
  private start = 0;
  private length = 0;
  private pushed = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError('capacity must be a positive integer');
    this.items = new Array(capacity);
  }

  get size(): number {
    return this.length;
  }

  /** Items ever pushed (kept and dropped). */
  get total(): number {
    return this.pushed;
  }

  /** Items pushed out by newer ones. */
  get dropped(): number {
    return this.pushed - this.length;
  }

  push(item: T): void {
    this.pushed += 1;
    if (this.length < this.capacity) {
      this.items[(this.start + this.length) % this.capacity] = item;
      this.length += 1;
      return;
    }
    this.items[this.start] = item;
    this.start = (this.start + 1) % this.capacity;
  }

  /** The item at `index` counted from the oldest kept, or undefined outside 0…size-1. */
  at(index: number): T | undefined {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) return undefined;
    return this.items[(this.start + index) % this.capacity];
  }

  /** A copy, newest first (what the console table shows). */
  newestFirst(): T[] {
    const out = new Array<T>(this.length);
    for (let i = 0; i < this.length; i++) out[i] = this.at(this.length - 1 - i) as T;
    return out;
  }

  clear(): void {
    this.items.fill(undefined);
    this.start = 0;
    this.length = 0;
  }
}
