/**
 * Reconnect delay policy shared by the browser client and the Redis side: capped exponential
 * backoff with "full jitter" (a uniform draw below the capped exponential), so a fleet of clients
 * that lost the same server does not come back in lockstep.
 */
export interface BackoffOptions {
  /** Delay scale for the first retry, ms. Default 500. */
  baseMs?: number;
  /** Upper bound of any delay, ms. Default 30 000. */
  maxMs?: number;
  /** Fraction of the delay that is randomised, 0..1. Default 0.5 (delay in [d/2, d]). */
  jitter?: number;
}

/** Delay before retry number `attempt` (1-based). `random` is injectable for tests. */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const base = options.baseMs ?? 500;
  const cap = options.maxMs ?? 30_000;
  const jitter = Math.min(1, Math.max(0, options.jitter ?? 0.5));
  const exponent = Math.min(Math.max(attempt, 1) - 1, 30);
  const ceiling = Math.min(cap, base * 2 ** exponent);
  return Math.round(ceiling * (1 - jitter) + ceiling * jitter * random());
}
