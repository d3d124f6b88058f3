// An unbounded async queue of events: what BridgeClient.events() hands out.

export class EventQueue<T> implements AsyncIterableIterator<T> {
  private readonly buffered: T[] = [];
  private readonly waiting: Array<(r: IteratorResult<T>) => void> = [];
  private ended = false;

  constructor(private readonly onReturn: (q: EventQueue<T>) => void) {}

  push(value: T): void {
    if (this.ended) return;
    const w = this.waiting.shift();
    if (w) w({ value, done: false });
    else this.buffered.push(value);
  }

  /** No more events; what is buffered is still delivered, then `done`. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const w of this.waiting.splice(0)) w({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<T>> {
    if (this.buffered.length > 0) return Promise.resolve({ value: this.buffered.shift() as T, done: false });
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  return(): Promise<IteratorResult<T>> {
    this.buffered.length = 0;
    this.end();
    this.onReturn(this);
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
