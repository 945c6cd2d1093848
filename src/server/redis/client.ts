/**
 * Builds ioredis clients from the typed Redis config. Every client connects lazily (the owner
 * calls `connect()`), retries forever with the shared backoff, and never queues commands while
 * disconnected: a gateway must keep serving its own clients instead of buffering without bound.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { RedisConfig } from '../config/index.js';
import { createRetryStrategy } from './retry.js';

/** The publisher sends PUBLISH; the subscriber only (un)subscribes and receives. */
export type RedisRole = 'publisher' | 'subscriber';

interface Endpoint { host: string; port: number; db: number; tls: boolean; username?: string; password?: string }

/** Host, port, db, credentials and TLS from REDIS_URL (when set) over the separate fields. */
export function redisEndpoint(config: RedisConfig): Endpoint {
  const base: Endpoint = {
    host: config.host, port: config.port, db: config.db, tls: config.tls,
    ...(config.username !== undefined ? { username: config.username } : {}),
    ...(config.password !== undefined ? { password: config.password } : {}),
  };
  if (config.url === undefined) return base;
  const url = new URL(config.url);
  const db = url.pathname.replace(/^\//, '');
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1') || base.host,
    port: url.port ? Number(url.port) : 6379,
    db: db && /^\d+$/.test(db) ? Number(db) : base.db,
    tls: url.protocol === 'rediss:' || base.tls,
    ...(url.username ? { username: decodeURIComponent(url.username) } : base.username !== undefined ? { username: base.username } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : base.password !== undefined ? { password: base.password } : {}),
  };
}

/** `host:port/db` without credentials, for logs and errors. */
export function describeRedisEndpoint(config: RedisConfig): string {
  const e = redisEndpoint(config);
  return `${e.tls ? 'rediss' : 'redis'}://${e.host}:${e.port}/${e.db}`;
}

/** Where and how to connect, as ioredis options (no behaviour settings). */
export function redisConnectionOptions(config: RedisConfig): RedisOptions {
  const e = redisEndpoint(config);
  return {
    host: e.host,
    port: e.port,
    db: e.db,
    ...(e.username !== undefined ? { username: e.username } : {}),
    ...(e.password !== undefined ? { password: e.password } : {}),
    ...(e.tls ? { tls: { servername: e.host } } : {}),
  };
}

export function redisClientOptions(config: RedisConfig, role: RedisRole, instanceId: string): RedisOptions {
  return {
    ...redisConnectionOptions(config),
    connectionName: `portico-ws:${instanceId}:${role}`.replace(/\s/g, '_'),
    lazyConnect: true,
    connectTimeout: config.connectTimeoutMs,
    retryStrategy: createRetryStrategy({ baseMs: config.retryBaseMs, maxMs: config.retryMaxMs }),
    // Fail commands at once while disconnected instead of queueing them (unbounded otherwise).
    enableOfflineQueue: false,
    // Reject commands in flight when the connection drops, on the first reconnect attempt.
    maxRetriesPerRequest: 0,
    // A PUBLISH whose reply was lost may already have been delivered; resending could duplicate it.
    autoResendUnfulfilledCommands: false,
    // The subscriber re-subscribes itself, so "ready" can mean "subscribed" (see connection.ts).
    autoResubscribe: false,
    keepAlive: 30_000,
  };
}

export function createRedisClient(config: RedisConfig, role: RedisRole, instanceId: string): Redis {
  return new Redis(redisClientOptions(config, role, instanceId));
}
