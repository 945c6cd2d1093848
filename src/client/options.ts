/** Options of `createWebSocketClient(url, options)`; every one has the default named here. */
import type { BackoffOptions } from '../protocol/backoff.js';

export interface ClientOptions {
  /** Log to the console what the client does. Default false: the client writes nothing. */
  debug?: boolean;
  /** Reconnect delays (capped exponential with jitter). Default base 500 ms, cap 30 s, jitter 0.5. */
  backoff?: BackoffOptions;
  /** Interval of the application-level `ping` while connected, ms. Default 30 000 (as the original). */
  pingIntervalMs?: number;
  /** How long `getPartialApplications()` waits for its response, ms. Default 10 000 (as the original). */
  requestTimeoutMs?: number;
  /** Delay after connecting before the page's user id is looked up and sent, ms. Default 1000 (as the original). */
  userIdDelayMs?: number;
  /** Look for a user id on the page (`#userId`, `[data-user-id]`, `window.userId`, …). Default true. */
  detectUserId?: boolean;
  /** Reconnect when the connection drops. Default true. */
  reconnect?: boolean;
  /** How long after a reconnect the answer to `recover` may take before the page is told to resync, ms. Default 10 000. */
  recoverTimeoutMs?: number;
}

export type ResolvedOptions = Required<Omit<ClientOptions, 'backoff'>> & { backoff: BackoffOptions };

export function resolveOptions(options: ClientOptions = {}): ResolvedOptions {
  return {
    debug: options.debug ?? false,
    backoff: { ...options.backoff },
    pingIntervalMs: options.pingIntervalMs ?? 30_000,
    requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
    userIdDelayMs: options.userIdDelayMs ?? 1000,
    detectUserId: options.detectUserId ?? true,
    reconnect: options.reconnect ?? true,
    recoverTimeoutMs: options.recoverTimeoutMs ?? 10_000,
  };
}
