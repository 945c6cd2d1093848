/**
 * A set that remembers at least its most recent `limit` members and at most twice as many: two
 * generations, the older dropped whole when the newer fills. Evicting the oldest member one at a
 * time from a JS Set starts an iterator per eviction that walks past the holes earlier deletions
 * left at the Set's front; every legacy message adds a claim here, so that ran per message.
 */
export class RecentSet<T> {
  private current = new Set<T>();
  private previous = new Set<T>();

  constructor(private readonly limit = 10_000) {}

  add(item: T): void {
    if (this.current.has(item)) return;
    this.current.add(item);
    if (this.current.size >= this.limit) {
      this.previous = this.current;
      this.current = new Set();
    }
  }

  has(item: T): boolean {
    return this.current.has(item) || this.previous.has(item);
  }
}
