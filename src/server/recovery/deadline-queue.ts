/**
 * Work due a fixed delay after it was queued (stop watching a new connection's streams, stop
 * filtering a recovered one's late duplicates). Items come due in the order they were queued, so
 * one timer at the head serves them all: a burst of 10,000 handshakes costs an array slot each,
 * not a timer each.
 */
export class DeadlineQueue<T> {
  private items: Array<{ at: number; item: T }> = [];
  private head = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly delayMs: number, private readonly run: (item: T) => void, private readonly clock: () => number = Date.now) {}

  get size(): number {
    return this.items.length - this.head;
  }

  add(item: T): void {
    this.items.push({ at: this.clock() + this.delayMs, item });
    if (this.timer === null) this.arm();
  }

  private arm(): void {
    const next = this.items[this.head];
    if (next === undefined) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.runDue(this.clock());
      this.arm();
    }, Math.max(0, next.at - this.clock()));
    this.timer.unref();
  }

  private runDue(now: number): void {
    while (this.head < this.items.length && this.items[this.head]!.at <= now) {
      const { item } = this.items[this.head]!;
      this.items[this.head++] = undefined as never; // let the item go before the array is compacted
      this.run(item);
    }
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
