/**
 * ioredis `retryStrategy` built on the shared `backoffDelay`: capped exponential backoff with
 * jitter, retrying forever (a gateway never gives up on Redis; it serves locally meanwhile).
 */
import { backoffDelay } from '../../protocol/backoff.js';

export interface RetryOptions {
  /** Delay scale of the first retry, ms (REDIS_RETRY_BASE_MS, default 100). */
  baseMs: number;
  /** Upper bound of any delay, ms (REDIS_RETRY_MAX_MS, default 5000). */
  maxMs: number;
}

/** `attempt` is ioredis's 1-based count of consecutive failed attempts; returns the delay in ms. */
export function createRetryStrategy(options: RetryOptions, random: () => number = Math.random): (attempt: number) => number {
  return (attempt) => backoffDelay(attempt, { baseMs: options.baseMs, maxMs: options.maxMs, jitter: 0.5 }, random);
}
