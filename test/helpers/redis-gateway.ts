/**
 * Gateways wired to a private redis-server exactly as bootstrap wires them (Redis broker plus the
 * legacy-channel ingress), a raw publisher that PUBLISHes like PHP does, a log capture, and
 * small polling helpers for the Redis tests.
 */
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import pino from 'pino';
import { defaultConfig, type Config, type DeepPartial, type RedisConfig } from '../../src/server/config/index.js';
import type { GatewayDeps, HealthReport } from '../../src/server/gateway.js';
import type { Logger } from '../../src/server/log.js';
import { createRedisDependencies, type RedisDependencies } from '../../src/server/redis/dependencies.js';
import { startTestGateway, type TestGateway } from './gateway.js';
import type { RedisServer } from './redis-server.js';
import type { TestClient } from './ws-client.js';
import { waitFor as waitUntil } from './wait.js';

export interface LogLine { level: number; msg: string; [key: string]: unknown }

/** A pino logger at debug level whose lines are kept in `lines`. */
export function captureLogger(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

export interface RedisTestGateway extends TestGateway { redis: RedisDependencies; lines: LogLine[] }

/** Redis settings for tests: fast reconnects so a restarted server is picked up within a second. */
export function testRedisConfig(server: RedisServer, overrides: DeepPartial<RedisConfig> = {}): RedisConfig {
  return defaultConfig({ redis: { enabled: true, url: server.url, retryBaseMs: 50, retryMaxMs: 500, connectTimeoutMs: 1000, ...overrides } }).redis;
}

/** `deps` adds to (never replaces) the Redis parts, e.g. `clientAssetsDir` for browser tests. */
export async function startRedisGateway(server: RedisServer, overrides: DeepPartial<Config> = {}, deps: Omit<GatewayDeps, 'log' | 'broker' | 'ingressSources' | 'cluster'> = {}): Promise<RedisTestGateway> {
  const { log, lines } = captureLogger();
  const instanceId = overrides.instanceId ?? `gw-${Math.random().toString(36).slice(2, 8)}`;
  const redisConfig = testRedisConfig(server, overrides.redis);
  const redis = createRedisDependencies(redisConfig, log, instanceId, defaultConfig(overrides).delivery);
  const gw = await startTestGateway({ ...overrides, instanceId, redis: redisConfig }, { ...deps, log, broker: redis.broker, ingressSources: redis.ingressSources, cluster: redis.cluster });
  return { ...gw, redis, lines };
}

/** A plain ioredis client standing in for PHP's `$redis->publish($channel, json_encode($payload))`. */
export function rawPublisher(server: RedisServer): Redis {
  const client = new Redis(server.port, '127.0.0.1', { lazyConnect: false, maxRetriesPerRequest: 1, retryStrategy: () => 100 });
  client.on('error', () => {});
  return client;
}

export async function health(gw: TestGateway): Promise<HealthReport> {
  const res = await fetch(`${gw.httpUrl}/health`);
  return (await res.json()) as HealthReport;
}

export { quietWindow, waitFor } from './wait.js';
/** @deprecated only ever as a "nothing else arrived" window: use `quietWindow`, which says so. */
export { quietWindow as sleep } from './wait.js';

/** Close clients, then gateways, then the redis-server: the end of every multi-gateway test. */
export async function teardown(server: RedisServer, gateways: TestGateway[], clients: TestClient[]): Promise<void> {
  for (const c of clients) c.close();
  for (const g of gateways) await g.close();
  await server.stop();
}

/**
 * Until every gateway has counted all of them on the cluster channel: a replay after an outage
 * waits for that many subscribers, so an outage test must not begin before they were counted.
 */
export async function clusterCounted(gateways: RedisTestGateway[]): Promise<void> {
  await waitUntil(() => gateways.every((g) => g.redis.broker.knownSubscribers >= gateways.length), 'every gateway counted the others');
}
