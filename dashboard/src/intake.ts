// What arrives is queued in the socket's message task, O(1) each, and taken
// (decoded, stored, counted) in slices of at most SLICE_MS, yielding to the
// browser between slices so that it can render, take input and read the
// socket. A `records` frame holds up to 1 MiB (thousands of records): taking
// them where they arrive would make that task as long as the frame is big,
// and far longer while the page's code is still cold.

/** The longest a slice may take; a long task is 50 ms. */
export const SLICE_MS = 4;
/** Items between two looks at the clock (performance.now() is not free). */
const CHECK_EVERY = 32;

/** A FIFO queue drained in time-bounded slices by `take`. */
export class Intake<T> {
  private items: Array<T | undefined> = [];
  private head = 0;
  private scheduled = false;
  private readonly channel = new MessageChannel();

  /**
   * take(item) handles one item; after each slice (items were taken),
   * onSlice() runs once: the place for what is per batch, not per item.
   */
  constructor(
    private readonly take: (item: T) => void,
    private readonly onSlice: () => void = () => {},
    private readonly now: () => number = () => performance.now(),
  ) {
    // A message task, not setTimeout: no 4 ms clamp between slices, and no
    // throttling to once a second in a background tab (the queue must drain).
    this.channel.port1.onmessage = () => this.drain();
  }

  /** Items queued and not taken yet. */
  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.channel.port2.postMessage(null);
  }

  /** One slice: items until the queue is empty or SLICE_MS have passed. */
  drain(): void {
    this.scheduled = false;
    const deadline = this.now() + SLICE_MS;
    let n = 0;
    while (this.head < this.items.length) {
      const item = this.items[this.head] as T;
      this.items[this.head++] = undefined;  // taken: the queue no longer holds it
      this.take(item);
      if (++n % CHECK_EVERY === 0 && this.now() >= deadline) break;
    }
    this.compact();
    if (n > 0) this.onSlice();
    if (this.length > 0) this.schedule();
  }

  /** Drops the taken front: at once when all is taken, else when it is most of the array (amortized O(1)). */
  private compact(): void {
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
