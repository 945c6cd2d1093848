/**
 * Work due a fixed delay after it was queued (stop watching a new connection's streams, stop
 * filtering a recovered one's late duplicates). Items come due in the order they were queued, so
 * one timer at the head serves them all: a burst of 10,000 handshakes costs an array slot each,
 * not a timer each.
 */
export class DeadlineQueue<T> {
  /** Items and when each is due, side by side (no object per item). */
  private items: Array<T | undefined> = [];
  private dueAt: number[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly delayMs: number, private readonly run: (item: T) => void, private readonly clock: () => number = Date.now) {}

  get size(): number {
    return this.items.length - this.head;
  }

  add(item: T): void {
    this.items.push(item);
    this.dueAt.push(this.clock() + this.delayMs);
    if (this.timer === null) this.arm();
  }

  private arm(): void {
    const next = this.dueAt[this.head];
    if (next === undefined) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.runDue(this.clock());
      this.arm();
    }, Math.max(0, next - this.clock()));
    this.timer.unref();
  }

  private runDue(now: number): void {
    while (this.head < this.items.length && this.dueAt[this.head]! <= now) {
      const item = this.items[this.head] as T;
      this.items[this.head++] = undefined; // let the item go before the array is compacted
      this.run(item);
    }
    if (this.head === this.items.length) {
      this.items = [];
      this.dueAt = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.dueAt = this.dueAt.slice(this.head);
      this.head = 0;
    }
  }
}
