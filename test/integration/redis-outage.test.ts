/**
 * Redis outages: unreachable at start-up, killed mid-run and restarted on the same port, and hung
 * (SIGSTOP). The gateways keep serving their own clients, report degraded health, log each state
 * change once, never queue remote publishes without bound, and resubscribe and deliver again by
 * themselves once Redis is back.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { health, rawPublisher, quietWindow, startRedisGateway, teardown, waitFor, type RedisTestGateway } from '../helpers/redis-gateway.js';
import { startRedisServer } from '../helpers/redis-server.js';
import { TestClient, type Msg } from '../helpers/ws-client.js';

const transitions = (g: RedisTestGateway, to: string) => g.lines.filter((l) => l.msg === `redis connected -> ${to}` || l.msg.startsWith(`redis connected -> ${to};`)).length;

async function expectChatAcross(from: TestClient, to: TestClient, text: string): Promise<void> {
  from.send({ type: 'chat', message: text });
  await to.next((m) => m.type === 'chat' && m.message === text, 5000);
}

test('Redis down at start-up: gateway serves locally, reports degraded, connects and subscribes once Redis appears', async () => {
  const server = await startRedisServer();
  await server.stop();
  const A = await startRedisGateway(server);
  const B = await startRedisGateway(server);
  const a1 = await TestClient.connect(A.url);
  const a2 = await TestClient.connect(A.url);
  const b1 = await TestClient.connect(B.url);
  try {
    const report = await health(A);
    assert.equal(report.redis, 'disconnected');
    assert.equal(report.status, 'degraded');

    await expectChatAcross(a1, a2, 'local while redis never was');
    fs.writeFileSync(path.join(A.spoolDir, `websocket_notification_${Date.now()}.1.json`), JSON.stringify({ type: 'notification', message: 'spool without redis' }));
    await a1.next((m) => m.message === 'spool without redis', 5000);
    await a2.next((m) => m.message === 'spool without redis', 5000);

    await server.restart();
    await waitFor(async () => (await health(A)).status === 'ok' && (await health(B)).status === 'ok', 'both gateways connected');
    await expectChatAcross(a1, b1, 'across after redis came up');
    const php = rawPublisher(server);
    await php.publish('notifications', JSON.stringify({ type: 'notification', message: 'legacy after start-up outage' }));
    for (const c of [a1, a2, b1]) await c.next((m) => m.message === 'legacy after start-up outage', 5000);
    php.disconnect();
    assert.equal(A.lines.filter((l) => l.msg === 'redis connecting -> disconnected' || l.msg.startsWith('redis connecting -> disconnected;')).length, 1);
    assert.equal(A.lines.filter((l) => l.msg === 'redis disconnected -> connected').length, 1);
  } finally {
    await teardown(server, [A, B], [a1, a2, b1]);
  }
});

test('Redis killed mid-run and restarted on the same port', async () => {
  const server = await startRedisServer();
  const A = await startRedisGateway(server);
  const B = await startRedisGateway(server);
  const a1 = await TestClient.connect(A.url, { cookie: 'PHPSESSID=outage-session-01' });
  const a2 = await TestClient.connect(A.url);
  const b1 = await TestClient.connect(B.url, { cookie: 'PHPSESSID=outage-session-01' });
  try {
    await expectChatAcross(a1, b1, 'before the outage');

    await server.stop();
    await waitFor(async () => (await health(A)).redis === 'disconnected' && (await health(B)).redis === 'disconnected', 'both see redis down');
    const report = await health(A);
    assert.equal(report.status, 'degraded');

    // Local relays and the spool keep working.
    a2.send({ type: 'ping', id: 'still-serving' });
    assert.equal((await a2.ofType('pong')).reply_to, 'still-serving');
    await expectChatAcross(a1, a2, 'local during the outage');
    fs.writeFileSync(path.join(A.spoolDir, `websocket_notification_${Date.now()}.2.json`), JSON.stringify({ type: 'notification', message: 'spool during outage' }));
    await a1.next((m) => m.message === 'spool during outage', 5000);
    await a2.next((m) => m.message === 'spool during outage', 5000);

    // Remote publishes while down are dropped, not queued: nothing piles up in ioredis.
    const droppedBefore = A.redis.bus.droppedPublishes;
    for (let i = 0; i < 5000; i++) A.gateway.relay.toAll({ type: 'outage_flood', i });
    assert.equal(A.redis.bus.droppedPublishes - droppedBefore, 5000);
    const publisher = A.redis.link.publisher.client as unknown as { offlineQueue: { length: number }; commandQueue: { length: number } };
    assert.equal(publisher.offlineQueue.length, 0);
    assert.ok(publisher.commandQueue.length <= 1);
    await waitFor(() => a1.count((m) => m.type === 'outage_flood') === 5000, 'local delivery of every publish');

    await quietWindow(1500); // nothing may be logged meanwhile: several reconnect attempts happen in it
    await server.restart();
    await waitFor(async () => (await health(A)).status === 'ok' && (await health(B)).status === 'ok', 'both gateways reconnected');

    await expectChatAcross(a1, b1, 'after the restart');
    await expectChatAcross(b1, a2, 'after the restart, other way');
    const php = rawPublisher(server);
    await php.publish('session_messages', JSON.stringify({ type: 'session_targeted', sessionId: 'outage-session-01', message: 'x', data: { type: 'resubscribed' } }));
    await a1.ofType('resubscribed', 5000);
    await b1.ofType('resubscribed', 5000);
    php.disconnect();

    await quietWindow(300); // nothing else may arrive: a replay of the outage publishes would show here
    assert.equal(b1.count((m) => m.type === 'outage_flood'), 0, 'outage publishes were not queued and replayed');
    for (const g of [A, B]) {
      assert.equal(transitions(g, 'disconnected'), 1, 'one line for going down');
      assert.equal(g.lines.filter((l) => l.msg === 'redis disconnected -> connected').length, 1, 'one line for coming back');
      assert.equal(g.lines.filter((l) => l.level >= 40 && /redis/.test(l.msg)).length <= 3, true, 'no warning flood');
    }
    assert.equal(A.lines.filter((l) => /^redis unavailable/.test(l.msg)).length, 1, 'dropped publishes logged once');
    const back = A.lines.find((l) => /^redis is back/.test(l.msg));
    assert.ok(back && (back.dropped as number) >= 5000, 'dropped count reported on recovery');
  } finally {
    await teardown(server, [A, B], [a1, a2, b1]);
  }
});

test('Redis hung (SIGSTOP): publishes waiting for a reply are bounded, local clients still served', async () => {
  const server = await startRedisServer();
  const A = await startRedisGateway(server, { redis: { maxPendingPublishes: 100 } });
  const B = await startRedisGateway(server);
  const a1 = await TestClient.connect(A.url);
  const a2 = await TestClient.connect(A.url);
  const b1 = await TestClient.connect(B.url);
  try {
    await expectChatAcross(a1, b1, 'before the hang');
    server.pause();
    const isFlood = (m: Msg) => m.type === 'hang_flood';
    for (let i = 0; i < 1000; i++) A.gateway.relay.toAll({ type: 'hang_flood', i });
    assert.ok(A.redis.bus.droppedPublishes >= 900, `at most 100 publishes wait for the hung server (dropped ${A.redis.bus.droppedPublishes})`);
    await expectChatAcross(a1, a2, 'local while hung');
    await a2.next(isFlood, 5000);
    assert.ok(A.redis.bus.pendingPublishes <= 100);

    server.resume();
    await waitFor(() => A.redis.bus.pendingPublishes === 0, 'the backlog acknowledged');
    await expectChatAcross(a1, b1, 'after the hang');
    await quietWindow(300); // nothing else may arrive: more than the bounded backlog would show here
    assert.ok(b1.count(isFlood) <= 100, `only the bounded backlog reached B (${b1.count(isFlood)})`);
  } finally {
    await teardown(server, [A, B], [a1, a2, b1]);
  }
});

test('Redis hung (SIGSTOP) past the liveness interval: reported down, then back by itself on SIGCONT', async () => {
  const server = await startRedisServer();
  const A = await startRedisGateway(server, { redis: { livenessMs: 200 } });
  const B = await startRedisGateway(server, { redis: { livenessMs: 200 } });
  const a1 = await TestClient.connect(A.url);
  const b1 = await TestClient.connect(B.url);
  try {
    await waitFor(async () => (await health(A)).redis === 'connected', 'A connected');
    server.pause();
    await waitFor(async () => (await health(A)).redis === 'disconnected' && (await health(B)).redis === 'disconnected', 'hang detected by PING');
    assert.equal((await health(A)).status, 'degraded');
    server.resume();
    await waitFor(async () => (await health(A)).redis === 'connected' && (await health(B)).redis === 'connected', 'both reconnected');
    await expectChatAcross(a1, b1, 'after the hang was detected');
    assert.equal(transitions(A, 'disconnected'), 1, 'one line for going down');
  } finally {
    await teardown(server, [A, B], [a1, b1]);
  }
});
