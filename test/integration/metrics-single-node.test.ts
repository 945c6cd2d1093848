/** Metrics of one gateway without Redis (the memory bus): clients, spool files, HTTP publishes, refusals. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createMetrics } from '../../src/server/metrics.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { sample, scrape } from '../helpers/prometheus.js';
import { TestClient } from '../helpers/ws-client.js';

const TOKEN = 'metrics-test-token';
let gw: TestGateway;

before(async () => {
  gw = await startTestGateway({ publish: { token: TOKEN } }, { observer: createMetrics() });
});
after(() => gw.close());

async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('/metrics numbers of one gateway without Redis match what the clients, a spool file, an HTTP publish and an ingress call did', async () => {
  const base = await scrape(gw.httpUrl);
  assert.equal(sample(base, 'portico_ws_connections_open'), 0);
  assert.equal(sample(base, 'portico_ws_connections_total'), 0);

  const a = await TestClient.connect(gw.url, { cookie: 'PHPSESSID=metricsSession1' });
  const b = await TestClient.connect(gw.url);
  b.send({ type: 'subscribe', entityType: 'resource', entityId: 42 });
  await b.ofType('subscription_confirmation');
  for (let i = 0; i < 3; i++) a.send({ type: 'ping', id: `p${i}` });
  for (let i = 0; i < 3; i++) await a.ofType('pong');
  a.send('not json');
  a.send('{also not json');
  await a.ofType('error');
  await a.ofType('error');

  // A spool file (source spool), an HTTP publish (source http), and a session message handed to
  // Ingress.handle with the source tag 'redis', as the Redis subscriber would hand it over (there
  // is no Redis here; metrics-redis.test.ts counts messages from a real one).
  fs.writeFileSync(path.join(gw.spoolDir, `websocket_notification_${Date.now()}.1.json`),
    JSON.stringify({ type: 'notification', message: 'from spool', data: {} }));
  await a.next((m) => m.message === 'from spool', 10_000);
  await b.next((m) => m.message === 'from spool', 10_000);
  const res = await fetch(`${gw.httpUrl}/publish`, {
    method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ channel: 'room_messages', payload: { type: 'room_message', roomId: 'entity_resource_42', message: 'via http' } }),
  });
  assert.equal(res.status, 202);
  await b.next((m) => m.message === 'via http');
  await gw.gateway.ingress.handle('session_messages', { type: 'session_targeted', sessionId: 'metricsSession1', data: { type: 'private_note', message: 'via redis' } }, 'redis');
  await a.next((m) => m.message === 'via redis');

  // The spool outcome is counted once the delivered file has been removed, just after delivery.
  await eventually(async () => sample(await scrape(gw.httpUrl), 'portico_ws_spool_files_total', { outcome: 'delivered' }) !== undefined, 'the spool outcome');
  let text = await scrape(gw.httpUrl);
  assert.equal(sample(text, 'portico_ws_connections_open'), 2);
  assert.equal(sample(text, 'portico_ws_connections_total'), 2);
  assert.equal(sample(text, 'portico_ws_rooms', { kind: 'session' }), 1);
  assert.equal(sample(text, 'portico_ws_rooms', { kind: 'entity' }), 1);
  assert.equal(sample(text, 'portico_ws_messages_in_total', { type: 'ping' }), 3);
  assert.equal(sample(text, 'portico_ws_messages_in_total', { type: 'subscribe' }), 1);
  assert.equal(sample(text, 'portico_ws_messages_in_total', { type: 'invalid' }), 2);
  assert.equal(sample(text, 'portico_ws_errors_total', { code: 'INVALID_JSON' }), 2);
  assert.equal(sample(text, 'portico_ws_messages_out_total', { type: 'pong' }), 3);
  assert.equal(sample(text, 'portico_ws_messages_out_total', { type: 'connection_success' }), 2);
  assert.equal(sample(text, 'portico_ws_messages_out_total', { type: 'session_id_required' }), 1);
  assert.equal(sample(text, 'portico_ws_messages_out_total', { type: 'error' }), 2);
  assert.equal(sample(text, 'portico_ws_messages_out_total', { type: 'notification' }), 2, 'the spool broadcast reached both clients');
  assert.equal(sample(text, 'portico_ws_messages_out_total', { type: 'room_message' }), 1);
  assert.equal(sample(text, 'portico_ws_messages_out_total', { type: 'private_note' }), undefined, 'a publisher\'s own type is not a label value');
  assert.equal(sample(text, 'portico_ws_messages_out_total', { type: 'other' }), 1, 'it counts as other');
  assert.ok(sample(text, 'portico_ws_bytes_out_total')! > 0);
  assert.ok(sample(text, 'portico_ws_bytes_in_total')! > 0);
  assert.equal(sample(text, 'portico_ws_ingress_total', { channel: 'notifications', source: 'spool' }), 1);
  assert.equal(sample(text, 'portico_ws_ingress_total', { channel: 'room_messages', source: 'http' }), 1);
  assert.equal(sample(text, 'portico_ws_ingress_total', { channel: 'session_messages', source: 'redis' }), 1);
  assert.equal(sample(text, 'portico_ws_spool_files_total', { outcome: 'delivered' }), 1);
  assert.equal(sample(text, 'portico_ws_delivery_latency_seconds_count'), 3, 'one latency sample per delivered ingress message');
  assert.equal(sample(text, 'portico_ws_bus_status', { status: 'disabled' }), 1);
  assert.equal(sample(text, 'portico_ws_redis_reconnects_total'), 0);
  assert.notEqual(sample(text, 'nodejs_eventloop_lag_seconds'), undefined, 'event-loop lag is exported');
  assert.notEqual(sample(text, 'process_cpu_user_seconds_total'), undefined, 'default process metrics are exported');

  a.ws.close(4001, 'bye');
  await a.waitClosed();
  await eventually(async () => sample(await scrape(gw.httpUrl), 'portico_ws_connections_open') === 1, 'the closed connection to leave the gauge');
  text = await scrape(gw.httpUrl);
  assert.equal(sample(text, 'portico_ws_disconnects_total', { code: 'application' }), 1, 'close codes a client chooses (3000-4999) share one label');
  assert.equal(sample(text, 'portico_ws_rooms', { kind: 'session' }), 0);
  b.close();
});

test('refused upgrades are counted by reason', async () => {
  const before = sample(await scrape(gw.httpUrl), 'portico_ws_connections_refused_total', { reason: 'path' }) ?? 0;
  await assert.rejects(TestClient.connect(`ws://127.0.0.1:${gw.port}/elsewhere`), /404/);
  assert.equal(sample(await scrape(gw.httpUrl), 'portico_ws_connections_refused_total', { reason: 'path' }), before + 1);
});

test('each gateway has its own registry', async () => {
  const other = await startTestGateway({}, { observer: createMetrics() });
  const firstBefore = sample(await scrape(gw.httpUrl), 'portico_ws_messages_in_total', { type: 'ping' });
  try {
    const c = await TestClient.connect(other.url);
    c.send({ type: 'ping' });
    await c.ofType('pong');
    assert.equal(sample(await scrape(other.httpUrl), 'portico_ws_messages_in_total', { type: 'ping' }), 1);
    assert.equal(sample(await scrape(gw.httpUrl), 'portico_ws_messages_in_total', { type: 'ping' }), firstBefore, 'the first gateway did not count it');
    c.close();
  } finally {
    await other.close();
  }
});

test('without a metrics observer, or with WSS_METRICS_ENABLED=false, /metrics is 404', async () => {
  const plain = await startTestGateway();
  const disabled = await startTestGateway({ metrics: { enabled: false } }, { observer: createMetrics() });
  try {
    assert.equal((await fetch(`${plain.httpUrl}/metrics`)).status, 404);
    assert.equal((await fetch(`${disabled.httpUrl}/metrics`)).status, 404);
  } finally {
    await plain.close();
    await disabled.close();
  }
});
