/** Metrics of a gateway on a real Redis: ingress per Redis channel, bus status, reconnects. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Redis } from 'ioredis';
import { createMetrics } from '../../src/server/metrics.js';
import { sample, scrape } from '../helpers/prometheus.js';
import { createRedisDependencies } from '../../src/server/redis/dependencies.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { captureLogger, rawPublisher, testRedisConfig, waitFor } from '../helpers/redis-gateway.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { TestClient } from '../helpers/ws-client.js';

let server: RedisServer;
let gw: TestGateway;
let publisher: Redis;

before(async () => {
  server = await startRedisServer();
  // As bootstrap wires it, plus the metrics observer.
  const { log } = captureLogger();
  const redis = testRedisConfig(server);
  const deps = createRedisDependencies(redis, log, 'metrics-redis');
  gw = await startTestGateway({ instanceId: 'metrics-redis', redis }, { log, broker: deps.broker, ingressSources: deps.ingressSources, observer: createMetrics() });
  publisher = rawPublisher(server);
});
after(async () => {
  publisher.disconnect();
  await gw?.close();
  await server?.stop();
});

test('ingress is counted per Redis channel, and a Redis restart counts one reconnect', async () => {
  const client = await TestClient.connect(gw.url, { cookie: 'PHPSESSID=metricsRedis01' });
  client.send({ type: 'subscribe', entityType: 'resource', entityId: 1 });
  await client.ofType('subscription_confirmation');
  await waitFor(async () => sample(await scrape(gw.httpUrl), 'portico_ws_bus_status', { status: 'connected' }) === 1, 'the bus to connect');

  await publisher.publish('notifications', JSON.stringify({ type: 'notification', message: 'n1' }));
  await publisher.publish('notifications', JSON.stringify({ type: 'notification', message: 'n2' }));
  await publisher.publish('room_messages', JSON.stringify({ type: 'room_message', roomId: 'entity_resource_1', message: 'r1' }));
  await publisher.publish('session_messages', JSON.stringify({ type: 'session_targeted', sessionId: 'metricsRedis01', data: { type: 'note', message: 's1' } }));
  for (const m of ['n1', 'n2', 'r1', 's1']) await client.next((x) => x.message === m, 10_000);

  let text = await scrape(gw.httpUrl);
  assert.equal(sample(text, 'portico_ws_ingress_total', { channel: 'notifications', source: 'redis' }), 2);
  assert.equal(sample(text, 'portico_ws_ingress_total', { channel: 'room_messages', source: 'redis' }), 1);
  assert.equal(sample(text, 'portico_ws_ingress_total', { channel: 'session_messages', source: 'redis' }), 1);
  assert.equal(sample(text, 'portico_ws_messages_out_total', { type: 'notification' }), 2);
  assert.equal(sample(text, 'portico_ws_delivery_latency_seconds_count'), 4);
  assert.equal(sample(text, 'portico_ws_redis_reconnects_total'), 0);

  await server.restart();
  await waitFor(async () => sample(await scrape(gw.httpUrl), 'portico_ws_redis_reconnects_total') === 1, 'one counted reconnect', 20_000);
  text = await scrape(gw.httpUrl);
  assert.equal(sample(text, 'portico_ws_bus_status', { status: 'connected' }), 1);
  client.close();
});
