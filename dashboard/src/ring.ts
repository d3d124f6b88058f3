// A fixed-capacity ring: push at the back (returning what fell off the
// front), shift from the front, index from the front. O(1) each (amortized
// while the buffer grows). The buffer grows to the capacity as items come
// rather than being allocated whole: a page that keeps 50,000 records
// should not pay for them (twice: the history and the view) at start-up and
// at every filter change.
export class Ring<T> {
  private buf: Array<T | undefined> = [];
  private head = 0;
  private len = 0;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError("Ring: capacity must be at least 1");
  }

  get length(): number {
    return this.len;
  }

  /** Appends `x`; when full, the oldest item is dropped and returned. */
  push(x: T): T | undefined {
    if (this.len < this.capacity) {
      // Until the buffer has its full size, head + len is its length: append.
      const i = (this.head + this.len) % this.capacity;
      if (i === this.buf.length) this.buf.push(x);
      else this.buf[i] = x;
      this.len++;
      return undefined;
    }
    const evicted = this.buf[this.head];
    this.buf[this.head] = x;
    this.head = (this.head + 1) % this.capacity;
    return evicted;
  }

  shift(): T | undefined {
    if (this.len === 0) return undefined;
    const x = this.buf[this.head];
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.len--;
    return x;
  }

  /** The i-th item from the front (0 = oldest); undefined outside. */
  at(i: number): T | undefined {
    if (i < 0 || i >= this.len) return undefined;
    return this.buf[(this.head + i) % this.capacity];
  }

  first(): T | undefined {
    return this.at(0);
  }

  last(): T | undefined {
    return this.at(this.len - 1);
  }

  clear(): void {
    this.buf = [];
    this.head = 0;
    this.len = 0;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.len; i++) yield this.buf[(this.head + i) % this.capacity] as T;
  }

  /** Index of the first item whose key is >= k, the items being sorted by key. */
  lowerBound(k: number, key: (x: T) => number): number {
    let lo = 0;
    let hi = this.len;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (key(this.buf[(this.head + mid) % this.capacity] as T) < k) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
