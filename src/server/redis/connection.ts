/**
 * One ioredis client with its status as an explicit union (see status.ts). ioredis reports every
 * failed attempt ('close', 'reconnecting', 'error'); this folds them into `down` once per outage,
 * keeps the first error's text for the log, and runs `prepare` (the subscriber's SUBSCRIBE) on
 * every reconnect before declaring the connection `ready`. While ready it PINGs every
 * `livenessMs`: a Redis that hangs, or a peer gone without a TCP reset, never closes the socket,
 * so an unanswered PING is what marks the connection down.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import type { RedisRole } from './client.js';
import { StatusCell, type RedisConnectionStatus } from './status.js';

export interface RedisConnectionOptions {
  role: RedisRole;
  log: Logger;
  /** Runs after each (re)connect; the connection counts as `ready` only once it resolves. */
  prepare?: (client: Redis) => Promise<void>;
  /** PING interval while ready; 0 disables the liveness check. Default 0. */
  livenessMs?: number;
}

export class RedisConnection {
  readonly status = new StatusCell<RedisConnectionStatus>('connecting');
  /** Text of the first error of the current outage (null while ready). */
  outageError: string | null = null;
  /** Failed attempts in the current outage. */
  failedAttempts = 0;
  private epoch = 0;
  private closing = false;
  private settled: Promise<void> | null = null;
  private liveness: NodeJS.Timeout | null = null;
  private pingOutstanding = false;

  constructor(readonly client: Redis, private readonly opts: RedisConnectionOptions) {
    const { log, role } = opts;
    client.on('ready', () => void this.onReady());
    client.on('close', () => this.onDown());
    client.on('end', () => this.onDown());
    // ioredis emits 'error' for each failed attempt; without a listener Node would throw.
    client.on('error', (err: Error) => {
      this.outageError ??= err.message;
      log.debug({ redis: role, err: err.message }, 'redis connection error');
    });
    client.on('reconnecting', () => { this.failedAttempts += 1; });
    this.status.onChange((from, to) => log.debug({ redis: role, from, to }, `redis ${role} ${from} -> ${to}`));
    this.status.onChange((_from, to) => (to === 'ready' ? this.startLiveness() : this.stopLiveness()));
  }

  /** Start connecting; resolves once the first attempt has an outcome (ready or down). Never rejects. */
  open(): Promise<void> {
    this.settled ??= new Promise<void>((resolve) => {
      this.status.onChange((_from, to) => { if (to !== 'connecting') resolve(); });
      // A failed first attempt is reported through the events above and retried by retryStrategy.
      this.client.connect().catch(() => {});
    });
    return this.settled;
  }

  async close(): Promise<void> {
    this.closing = true;
    this.epoch += 1;
    this.status.set('closed');
    // disconnect() ends the socket after flushing what was already written; it never waits for Redis.
    this.client.disconnect();
  }

  private async onReady(): Promise<void> {
    const epoch = ++this.epoch;
    try {
      await this.opts.prepare?.(this.client);
    } catch (err) {
      if (epoch !== this.epoch || this.closing) return;
      this.outageError ??= (err as Error).message;
      this.opts.log.warn({ redis: this.opts.role, err: (err as Error).message }, 'redis connection set-up failed; reconnecting');
      this.client.disconnect(true);
      return;
    }
    if (epoch !== this.epoch || this.closing || this.client.status !== 'ready') return;
    this.status.set('ready');
    this.outageError = null;
    this.failedAttempts = 0;
  }

  private startLiveness(): void {
    const every = this.opts.livenessMs ?? 0;
    if (every <= 0 || this.liveness) return;
    this.pingOutstanding = false;
    this.liveness = setInterval(() => {
      if (this.pingOutstanding) {
        this.outageError ??= `no PING reply within ${every} ms`;
        this.opts.log.debug({ redis: this.opts.role, everyMs: every }, 'redis did not answer PING; reconnecting');
        this.stopLiveness();
        this.onDown();
        this.client.disconnect(true);
        return;
      }
      this.pingOutstanding = true;
      this.client.ping().then(() => { this.pingOutstanding = false; }, () => {});
    }, every);
    this.liveness.unref();
  }

  private stopLiveness(): void {
    if (this.liveness) clearInterval(this.liveness);
    this.liveness = null;
    this.pingOutstanding = false;
  }

  private onDown(): void {
    this.epoch += 1;
    if (!this.closing) this.status.set('down');
  }
}
