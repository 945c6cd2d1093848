/**
 * Redis outages: unreachable at start-up, killed mid-run and restarted on the same port, and hung
 * (SIGSTOP). The gateways keep serving their own clients, report degraded health, log each state
 * change once, keep what their clients sent (bounded by WSS_OUTAGE_BUFFER) and send it to the other
 * instances once Redis is back, and resubscribe and deliver again by themselves.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { clusterCounted, health, rawPublisher, quietWindow, startRedisGateway, teardown, waitFor, type RedisTestGateway } from '../helpers/redis-gateway.js';
import { startRedisServer } from '../helpers/redis-server.js';
import { stamped } from '../../src/server/messages.js';
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

    await clusterCounted([A, B]);
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

    // Publishes while down are delivered here at once and kept, not queued in ioredis.
    const kept = A.gateway.broker.outage().buffered; // the chat and the spool file above
    for (let i = 0; i < 5000; i++) void A.gateway.relay.toAll(stamped({ type: 'outage_flood', i }));
    assert.equal(A.gateway.broker.outage().buffered, kept + 5000);
    assert.equal((await health(A)).outage.buffered, kept + 5000, '/health shows the buffer');
    const publisher = A.redis.link.publisher.client as unknown as { offlineQueue: { length: number }; commandQueue: { length: number } };
    assert.equal(publisher.offlineQueue.length, 0);
    assert.ok(publisher.commandQueue.length <= 1);
    await waitFor(() => a1.count((m) => m.type === 'outage_flood') === 5000, 'local delivery of every publish');

    await quietWindow(1500); // nothing may be logged meanwhile: several reconnect attempts happen in it
    await server.restart();
    await waitFor(async () => (await health(A)).status === 'ok' && (await health(B)).status === 'ok', 'both gateways reconnected');

    // Kept publishes reach the other instance once, in order, and enter history; the origin's clients do not get them again.
    await waitFor(() => b1.count((m) => m.type === 'outage_flood') === 5000, 'the kept publishes reached B', 20_000);
    const atB = b1.messages.filter((m) => m.type === 'outage_flood').map((m) => m.i as number);
    assert.deepEqual(atB, Array.from({ length: 5000 }, (_, i) => i), 'in order, once');
    await expectChatAcross(a1, b1, 'after the restart');
    await expectChatAcross(b1, a2, 'after the restart, other way');
    const php = rawPublisher(server);
    await php.publish('session_messages', JSON.stringify({ type: 'session_targeted', sessionId: 'outage-session-01', message: 'x', data: { type: 'resubscribed' } }));
    await a1.ofType('resubscribed', 5000);
    await b1.ofType('resubscribed', 5000);
    assert.equal(Number(await php.call('hget', `${A.config.redis.prefix}h:{broadcast}:m`, 'o')) >= 5000, true, 'in history');
    php.disconnect();
    assert.equal(a1.count((m) => m.type === 'outage_flood'), 5000, 'the origin skipped its own copies');
    assert.equal(A.gateway.broker.outage().buffered, 0);
    assert.equal(A.gateway.broker.outage().replayed, kept + 5000);
    for (const g of [A, B]) {
      assert.equal(transitions(g, 'disconnected'), 1, 'one line for going down');
      assert.equal(g.lines.filter((l) => l.msg === 'redis disconnected -> connected').length, 1, 'one line for coming back');
      assert.equal(g.lines.filter((l) => l.level >= 40 && /redis/.test(l.msg)).length <= 3, true, 'no warning flood');
    }
    const back = A.lines.find((l) => /^redis is back; messages kept/.test(l.msg));
    assert.ok(back && (back.replayed as number) === kept + 5000, 'replayed count reported on recovery');
  } finally {
    await teardown(server, [A, B], [a1, a2, b1]);
  }
});

test('WSS_OUTAGE_BUFFER bounds what is kept: beyond it counted, logged once, reaching this instance only', async () => {
  const server = await startRedisServer();
  const A = await startRedisGateway(server, { delivery: { outageBuffer: 100 } });
  const B = await startRedisGateway(server);
  const a1 = await TestClient.connect(A.url);
  const b1 = await TestClient.connect(B.url);
  try {
    await clusterCounted([A, B]);
    await server.stop();
    await waitFor(async () => (await health(A)).redis === 'disconnected', 'A sees redis down');
    for (let i = 0; i < 150; i++) void A.gateway.relay.toAll(stamped({ type: 'bounded_flood', i }));
    assert.deepEqual([A.gateway.broker.outage().buffered, A.gateway.broker.outage().dropped], [100, 50]);
    assert.equal(A.lines.filter((l) => /^outage buffer full/.test(l.msg)).length, 1, 'logged once');
    await waitFor(() => a1.count((m) => m.type === 'bounded_flood') === 150, 'all delivered locally');
    assert.deepEqual((await health(A)).outage, { buffered: 100, dropped: 50, replayed: 0 });
    await server.restart();
    await waitFor(() => b1.count((m) => m.type === 'bounded_flood') === 100, 'the kept 100 reached B', 20_000);
    assert.deepEqual(b1.messages.filter((m) => m.type === 'bounded_flood').map((m) => m.i), Array.from({ length: 100 }, (_, i) => i));
  } finally {
    await teardown(server, [A, B], [a1, b1]);
  }
});

test('a stream that lost a publication beyond WSS_OUTAGE_BUFFER is marked: recovering from before the loss says recovered:false', async () => {
  const server = await startRedisServer();
  // A burst with Redis up: one reply outstanding at most, five kept, the rest dropped.
  const A = await startRedisGateway(server, { delivery: { outageBuffer: 5 }, redis: { maxPendingPublishes: 1 } });
  const early = await TestClient.connect(A.url);
  try {
    A.gateway.relay.toRoom('entity_quiet_1', stamped({ type: 'untouched' }));
    await waitFor(async () => (await A.gateway.broker.history('entity_quiet_1', 0, 0)).top.offset === 1, 'the quiet room has its one publication');
    A.gateway.relay.toAll(stamped({ type: 'before_burst' }));
    const seen = (await early.next((m) => m.type === 'before_burst')).stream_position as { offset: number; epoch: string };
    for (let i = 0; i < 50; i++) void A.gateway.relay.toAll(stamped({ type: 'burst', i }));
    assert.ok(A.gateway.broker.outage().dropped > 0, 'the burst overflowed the buffer');
    await waitFor(async () => (await A.gateway.broker.history('broadcast', 0, 0)).lostAfter !== undefined, 'broadcast marked as lossy');
    const read = await A.gateway.broker.history('broadcast', 0, 0);
    assert.equal(read.lostAfter, read.top.offset);
    assert.equal(read.top.epoch, seen.epoch, 'history itself is kept (other instances may still fill gaps from it)');
    assert.equal((await A.gateway.broker.history('entity_quiet_1', 0, 0)).lostAfter, undefined, 'a stream that lost nothing is not marked');
    assert.equal(A.lines.filter((l) => /^streams marked as having lost messages/.test(l.msg)).length, 1);

    const fromBefore = await TestClient.connect(A.url);
    const fromAfter = await TestClient.connect(A.url);
    fromBefore.send({ type: 'recover', streams: { broadcast: { offset: seen.offset, epoch: seen.epoch } } });
    fromAfter.send({ type: 'recover', streams: { broadcast: { offset: read.top.offset, epoch: read.top.epoch } } });
    const before = (await fromBefore.ofType('recovery_result', 5000)) as { recovered: boolean };
    const after = (await fromAfter.ofType('recovery_result', 5000)) as { recovered: boolean };
    fromBefore.close();
    fromAfter.close();
    assert.equal(before.recovered, false, 'a client from before the loss is told to resync');
    assert.equal(after.recovered, true, 'a client from after it is not');
  } finally {
    await teardown(server, [A], [early]);
  }
});

test('a publication kept locally never overtakes one still waiting for Redis: the origin\'s clients get them in the order accepted', async () => {
  const server = await startRedisServer();
  const A = await startRedisGateway(server, { redis: { maxPendingPublishes: 1 } });
  const a1 = await TestClient.connect(A.url);
  try {
    server.pause(); // the first publish waits for a reply; the second is over the bound
    void A.gateway.relay.toAll(stamped({ type: 'ordered', i: 1 }));
    void A.gateway.relay.toAll(stamped({ type: 'ordered', i: 2 }));
    await waitFor(() => a1.count((m) => m.type === 'ordered') === 2, 'both delivered locally');
    assert.deepEqual(a1.messages.filter((m) => m.type === 'ordered').map((m) => m.i), [1, 2]);
  } finally {
    server.resume();
    await teardown(server, [A], [a1]);
  }
});

test('Redis hung (SIGSTOP): publishes waiting for a reply are bounded; the rest are kept, local clients still served', async () => {
  const server = await startRedisServer();
  const A = await startRedisGateway(server, { redis: { maxPendingPublishes: 100 } });
  const B = await startRedisGateway(server);
  const a1 = await TestClient.connect(A.url);
  const a2 = await TestClient.connect(A.url);
  const b1 = await TestClient.connect(B.url);
  try {
    await expectChatAcross(a1, b1, 'before the hang');
    await clusterCounted([A, B]);
    server.pause();
    const isFlood = (m: Msg) => m.type === 'hang_flood';
    for (let i = 0; i < 1000; i++) void A.gateway.relay.toAll(stamped({ type: 'hang_flood', i }));
    assert.ok(A.redis.broker.pendingPublishes <= 100, 'at most 100 wait for the hung server');
    assert.ok(A.gateway.broker.outage().buffered >= 900, 'the rest are kept');
    await expectChatAcross(a1, a2, 'local while hung');
    await waitFor(() => a2.count(isFlood) === 1000, 'every one reaches the local clients (the waiting ones after a second)');

    server.resume();
    await waitFor(() => A.redis.broker.pendingPublishes === 0 && A.gateway.broker.outage().buffered === 0, 'the backlog acknowledged and the kept ones sent');
    await waitFor(() => b1.count(isFlood) === 1000, 'all of them reached B');
    await expectChatAcross(a1, b1, 'after the hang');
    await quietWindow(300); // nothing else may arrive: a second copy would show here
    const atB = b1.messages.filter(isFlood).map((m) => m.i as number);
    assert.equal(new Set(atB).size, 1000, 'once each at B');
    assert.equal(a2.count(isFlood), 1000, 'once each at A');
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
    await clusterCounted([A, B]);
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
