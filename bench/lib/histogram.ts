/**
 * Fixed-resolution latency histogram (10 µs buckets up to 20 s, then one overflow bucket), so a
 * million deliveries per second can be recorded without allocating per sample.
 */
const RESOLUTION_US = 10;
const BUCKETS = 2_000_000;

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export class Histogram {
  private counts = new Uint32Array(BUCKETS + 1);
  private total = 0;
  private maxUs = 0;

  record(us: number): void {
    const v = us < 0 ? 0 : us;
    const b = (v / RESOLUTION_US) | 0;
    this.counts[b < BUCKETS ? b : BUCKETS]! += 1;
    this.total += 1;
    if (v > this.maxUs) this.maxUs = v;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.maxUs = 0;
  }

  /** Upper bound (ms) of the bucket holding quantile q. */
  quantileMs(q: number): number {
    if (this.total === 0) return 0;
    const rank = Math.ceil(q * this.total);
    let seen = 0;
    for (let b = 0; b <= BUCKETS; b++) {
      seen += this.counts[b]!;
      if (seen >= rank) return Math.min(((b + 1) * RESOLUTION_US) / 1000, this.maxUs / 1000);
    }
    return this.maxUs / 1000;
  }

  summary(): LatencySummary {
    return { count: this.total, p50Ms: this.quantileMs(0.5), p99Ms: this.quantileMs(0.99), maxMs: this.maxUs / 1000 };
  }
}
