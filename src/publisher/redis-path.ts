/**
 * The first delivery path: PUBLISH on the gateway's Redis channels. One lazily connected client
 * per publisher, without an offline queue, so a publish while Redis is down fails within
 * `timeoutMs` (and the publisher falls back) instead of waiting in a queue.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { LegacyChannel } from '../protocol/constants.js';
import { backoffDelay } from '../protocol/backoff.js';

export interface RedisPathOptions {
  /** `redis://[:password@]host:port[/db]` or ioredis options. */
  connection: string | RedisOptions;
  /** Upper bound for connecting and for the PUBLISH reply, ms. Default 2000. */
  timeoutMs?: number;
}

export class RedisPath {
  private client: Redis | null = null;
  /** Set when an established or attempted connection closed; cleared when it is ready again. */
  private down = false;
  private lastError: string | null = null;
  private readonly timeoutMs: number;

  constructor(private readonly opts: RedisPathOptions) {
    this.timeoutMs = opts.timeoutMs ?? 2000;
  }

  /** PUBLISH and resolve with the number of subscribers that received it. Rejects when Redis is unreachable. */
  async publish(channel: LegacyChannel, text: string): Promise<number> {
    const client = await this.connected();
    return client.publish(channel, text);
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    this.down = false;
    if (!client) return;
    if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
    else client.disconnect();
  }

  private async connected(): Promise<Redis> {
    if (!this.client || this.client.status === 'end') this.client = this.create();
    const client = this.client;
    if (client.status === 'ready') return client;
    // Known to be down: fail at once (the client keeps retrying in the background) rather than
    // making every publish of an outage wait for the timeout.
    if (this.down) throw new Error(`Redis unreachable${this.lastError ? ` (${this.lastError})` : ''}; retrying in the background`);
    if (client.status === 'wait') {
      client.connect().catch(() => {}); // the outcome is observed through the events below
    }
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`Redis not reachable within ${this.timeoutMs} ms`)), this.timeoutMs);
      const onReady = () => done();
      const onClose = () => done(new Error(`Redis unreachable${this.lastError ? ` (${this.lastError})` : ''}`));
      const done = (err?: Error) => {
        clearTimeout(timer);
        client.off('ready', onReady);
        client.off('close', onClose);
        client.off('end', onClose);
        if (err) reject(err);
        else resolve();
      };
      client.on('ready', onReady);
      client.on('close', onClose);
      client.on('end', onClose);
    });
    return client;
  }

  private create(): Redis {
    const base: RedisOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: this.timeoutMs,
      commandTimeout: this.timeoutMs,
      // Keep trying in the background (capped), so a long-lived publisher recovers by itself.
      retryStrategy: (attempt) => backoffDelay(attempt, { baseMs: 200, maxMs: 10_000 }),
    };
    const client = typeof this.opts.connection === 'string'
      ? new Redis(this.opts.connection, base)
      : new Redis({ ...base, ...this.opts.connection });
    // Errors surface as rejected publishes; without a listener ioredis would crash the process.
    client.on('error', (err: Error) => { this.lastError = err.message; });
    client.on('close', () => { this.down = true; });
    client.on('ready', () => { this.down = false; this.lastError = null; });
    return client;
  }
}
