/** A set that keeps only its most recent `limit` members (oldest forgotten first). */
export class RecentSet<T> {
  private readonly items = new Set<T>();

  constructor(private readonly limit = 10_000) {}

  add(item: T): void {
    this.items.delete(item);
    this.items.add(item);
    if (this.items.size > this.limit) this.items.delete(this.items.values().next().value as T);
  }

  has(item: T): boolean {
    return this.items.has(item);
  }
}
