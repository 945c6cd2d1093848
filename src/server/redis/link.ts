/**
 * An instance's two Redis connections — one publisher, one subscriber — and their combined status
 * as the broker reports it (`connecting` → `connected` / `disconnected`). Each combined transition is
 * logged once, `from -> to`, with the first error of an outage, so a long outage logs two lines.
 * The broker and the legacy-channel ingress share one link: it opens with its first user and closes
 * with its last.
 */
import type { Redis } from 'ioredis';
import type { BrokerStatus, BrokerStatusListener } from '../broker/broker.js';
import type { RedisConfig } from '../config/index.js';
import type { Logger } from '../log.js';
import { createRedisClient, describeRedisEndpoint } from './client.js';
import { RedisConnection } from './connection.js';
import { StatusCell, type RedisConnectionStatus } from './status.js';
import { RedisSubscriber } from './subscriber.js';

export interface RedisClients { publisher: Redis; subscriber: Redis }

export class RedisLink {
  readonly publisher: RedisConnection;
  readonly subscriber: RedisSubscriber;
  private readonly cell = new StatusCell<BrokerStatus>('connecting');
  private users = 0;
  private opened: Promise<void> | null = null;

  constructor(config: RedisConfig, private readonly log: Logger, instanceId: string, clients?: RedisClients) {
    const endpoint = describeRedisEndpoint(config);
    this.publisher = new RedisConnection(clients?.publisher ?? createRedisClient(config, 'publisher', instanceId), { role: 'publisher', log, livenessMs: config.livenessMs });
    this.subscriber = new RedisSubscriber(clients?.subscriber ?? createRedisClient(config, 'subscriber', instanceId), log, config.livenessMs);
    const update = () => this.cell.set(combine(this.publisher.status.value, this.subscriber.connection.status.value));
    this.publisher.status.onChange(update);
    this.subscriber.connection.status.onChange(update);
    this.cell.onChange((from, to) => {
      if (to === 'disconnected' && this.users > 0) {
        const error = this.publisher.outageError ?? this.subscriber.connection.outageError ?? undefined;
        log.warn({ redis: endpoint, from, to, error }, `redis ${from} -> ${to}; serving local clients only, retrying with backoff`);
      } else {
        log.info({ redis: endpoint, from, to }, `redis ${from} -> ${to}`);
      }
    });
  }

  get status(): BrokerStatus {
    return this.cell.value;
  }

  /** True when PUBLISH can be sent now. */
  get canPublish(): boolean {
    return this.publisher.status.value === 'ready';
  }

  onStatusChange(listener: BrokerStatusListener): void {
    this.cell.onChange(listener);
  }

  /** Add a user; the first one connects. Resolves once both connections had a first outcome. */
  open(): Promise<void> {
    this.users += 1;
    this.opened ??= Promise.all([this.publisher.open(), this.subscriber.connection.open()]).then(() => {});
    return this.opened;
  }

  /** Remove a user; the last one disconnects both connections. */
  async close(): Promise<void> {
    if (this.users === 0) return;
    this.users -= 1;
    if (this.users > 0) return;
    await Promise.all([this.publisher.close(), this.subscriber.connection.close()]);
    this.cell.set('disconnected');
  }
}

function combine(publisher: RedisConnectionStatus, subscriber: RedisConnectionStatus): BrokerStatus {
  if (publisher === 'ready' && subscriber === 'ready') return 'connected';
  if (publisher === 'down' || subscriber === 'down' || publisher === 'closed' || subscriber === 'closed') return 'disconnected';
  return 'connecting';
}
