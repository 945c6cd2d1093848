/** Token bucket per connection, plus a count of recent rejections to spot sustained abuse. */
export interface RateLimitOptions { perSecond: number; burst: number; closeAfter: number }

const ABUSE_WINDOW_MS = 10_000;

export type RateDecision = 'ok' | 'limited' | 'abusive';

export class TokenBucket {
  private tokens: number;
  private last: number;
  private rejected = 0;
  private windowStart = 0;

  constructor(private readonly opts: RateLimitOptions, now = Date.now()) {
    this.tokens = opts.burst;
    this.last = now;
  }

  take(now = Date.now()): RateDecision {
    this.tokens = Math.min(this.opts.burst, this.tokens + ((now - this.last) / 1000) * this.opts.perSecond);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 'ok';
    }
    if (now - this.windowStart > ABUSE_WINDOW_MS) {
      this.windowStart = now;
      this.rejected = 0;
    }
    this.rejected += 1;
    return this.rejected >= this.opts.closeAfter ? 'abusive' : 'limited';
  }
}
