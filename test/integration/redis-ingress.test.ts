/**
 * Redis legacy channels: every payload form of docs/protocol.md ("Ingress") published as a raw
 * JSON string, as PHP does, reaches exactly the right connections, once per connection even
 * with two gateways subscribed; bad payloads are logged sparingly and never stop the ingress.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Redis } from 'ioredis';
import { sessionRoomId } from '../../src/server/session.js';
import { rawPublisher, quietWindow, startRedisGateway, type RedisTestGateway } from '../helpers/redis-gateway.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { TestClient, type Msg } from '../helpers/ws-client.js';

let server: RedisServer;
let a: RedisTestGateway;
let b: RedisTestGateway;
let php: Redis;
let alice: TestClient; // session alice-session-0001 on gateway a, subscribed to resource 42
let bob: TestClient; // session bob-session-0002 on gateway b, subscribed to resource 42
let carol: TestClient; // no session, on gateway b

const publish = (channel: string, payload: unknown) => php.publish(channel, typeof payload === 'string' ? payload : JSON.stringify(payload));

before(async () => {
  server = await startRedisServer();
  a = await startRedisGateway(server);
  b = await startRedisGateway(server);
  php = rawPublisher(server);
  alice = await TestClient.connect(a.url, { cookie: 'PHPSESSID=alice-session-0001' });
  bob = await TestClient.connect(b.url, { cookie: 'bookingfrontendsession=bob-session-0002' });
  carol = await TestClient.connect(b.url);
  for (const c of [alice, bob]) {
    c.send({ type: 'subscribe', entityType: 'resource', entityId: 42 });
    await c.ofType('subscription_confirmation');
  }
  // Two gateways, one subscriber connection each, plus the PHP stand-in's own connection.
  assert.equal(Number(await php.call('pubsub', 'numsub', 'notifications').then((r) => (r as unknown[])[1])), 2);
});

after(async () => {
  for (const c of [alice, bob, carol]) c?.close();
  await a?.close();
  await b?.close();
  php?.disconnect();
  await server?.stop();
});

/** Wait until `clients` got a matching message, then check nobody got it twice and `others` not at all. */
async function expectOnce(pred: (m: Msg) => boolean, clients: TestClient[], others: TestClient[] = []): Promise<Msg[]> {
  const got = await Promise.all(clients.map((c) => c.next(pred, 5000)));
  await quietWindow(200); // nothing else may arrive: catches a second copy or a stray delivery
  for (const c of clients) assert.equal(c.count(pred), 0, 'delivered more than once');
  for (const c of others) assert.equal(c.count(pred), 0, 'delivered to a connection outside the target');
  return got;
}

test('notifications broadcast: every connection on every instance once, with source and received_at', async () => {
  await publish('notifications', { type: 'notification', message: 'New booking created', data: { id: 7 }, timestamp: '2024-05-01T10:00:00+02:00' });
  const got = await expectOnce((m) => m.message === 'New booking created', [alice, bob, carol]);
  for (const m of got) {
    assert.equal(m.type, 'notification');
    assert.deepEqual(m.data, { id: 7 });
    assert.equal(m.source, 'redis');
    assert.ok(!Number.isNaN(Date.parse(m.received_at)), 'received_at is a date');
    assert.equal(m.timestamp, '2024-05-01T10:00:00+02:00', 'publisher timestamp kept');
  }
});

test('notifications target session: only that session room, roomId added (not for server_message)', async () => {
  await publish('notifications', { type: 'booking_update', target: 'session', sessionId: 'bob-session-0002', message: 'for bob' });
  const [m] = await expectOnce((x) => x.message === 'for bob', [bob], [alice, carol]);
  assert.equal(m!.roomId, sessionRoomId('bob-session-0002'));
  assert.ok(m!.timestamp, 'timestamp added');

  await publish('notifications', { type: 'server_message', target: 'session', sessionId: 'alice-session-0001', message: 'server says' });
  const [s] = await expectOnce((x) => x.message === 'server says', [alice], [bob, carol]);
  assert.equal(s!.roomId, undefined);
});

test('notifications target entity: members of entity_<type>_<id> on both instances, fields added', async () => {
  await publish('notifications', { type: 'entity_update', target: 'entity', entityType: 'resource', entityId: 42, message: 'resource changed' });
  const got = await expectOnce((m) => m.message === 'resource changed', [alice, bob], [carol]);
  for (const m of got) {
    assert.equal(m.roomId, 'entity_resource_42');
    assert.equal(m.entityType, 'resource');
    assert.equal(m.entityId, 42);
  }
});

test('session_messages session_targeted: data delivered unwrapped to that session', async () => {
  await publish('session_messages', { type: 'session_targeted', sessionId: 'alice-session-0001', message: 'wrapper', data: { type: 'cart_update', items: 3 } });
  const [m] = await expectOnce((x) => x.type === 'cart_update', [alice], [bob, carol]);
  assert.equal(m!.items, 3);
  assert.equal(m!.sessionId, undefined, 'wrapper not delivered');
  assert.equal(alice.count((x) => x.type === 'session_targeted'), 0);
});

test('session_messages update_partial_applications: server push to that session (error shape without a database)', async () => {
  await publish('session_messages', { type: 'update_partial_applications', sessionId: 'bob-session-0002' });
  const [m] = await expectOnce((x) => x.type === 'partial_applications_response', [bob], [alice, carol]);
  assert.equal(m!.data.error, true);
  assert.equal(m!.data.status, 'error');
  assert.equal(m!.data.message, 'Database not connected');
});

test('room_messages: payload delivered unchanged to the room members (plus the stream position)', async () => {
  const payload = { type: 'room_message', roomId: 'entity_resource_42', action: 'updated', message: 'resource 42 updated', data: { resourceId: 42 } };
  await publish('room_messages', payload);
  const got = await expectOnce((m) => m.message === 'resource 42 updated', [alice, bob], [carol]);
  for (const m of got) {
    const { timestamp, stream_position: position, ...rest } = m;
    assert.deepEqual(rest, payload);
    assert.ok(timestamp);
    assert.equal(position.stream, 'entity_resource_42');
  }
  assert.deepEqual(got[0]!.stream_position, got[1]!.stream_position, 'one position for the message on both instances');
});

test('bad payloads are dropped and logged without flooding; the ingress keeps working', async () => {
  const before = a.lines.filter((l) => /redis payload/.test(l.msg)).length;
  for (let i = 0; i < 40; i++) {
    await publish('notifications', 'not json {');
    await publish('room_messages', JSON.stringify([1, 2]));
    await publish('session_messages', JSON.stringify({ type: 'session_targeted' }));
  }
  await publish('notifications', { type: 'notification', message: 'still alive' });
  await expectOnce((m) => m.message === 'still alive', [alice, bob, carol]);
  const warned = a.lines.filter((l) => /redis payload/.test(l.msg)).length - before;
  assert.ok(warned >= 1, 'bad payloads are logged');
  assert.ok(warned <= 5, `at most a few lines per minute, got ${warned}`);
  assert.ok(!a.lines.some((l) => JSON.stringify(l).includes('alice-session-0001')), 'no session id in logs');
  assert.equal((await fetch(`${a.httpUrl}/health`).then((r) => r.json()) as { redis: string }).redis, 'connected');
});

test('a legacy-channel message enters the broadcast stream once: one bus message, not one per instance', async () => {
  let busMessages = 0;
  const sub = await rawPublisherSubscriber();
  try {
    sub.on('message', () => { busMessages += 1; });
    await publish('notifications', { type: 'notification', message: 'no echo' });
    const got = await expectOnce((m) => m.message === 'no echo', [alice, bob, carol]);
    await quietWindow(200); // nothing else may arrive: catches a second copy or a stray delivery
    assert.equal(busMessages, 1, 'published once, by the instance that won the claim');
    assert.equal(new Set(got.map((m) => m.stream_position.offset)).size, 1);
  } finally {
    sub.disconnect();
  }
});

test('WSS_HISTORY_SIZE=0: legacy-channel messages are delivered by each instance and not re-published', async () => {
  // A cluster of its own (another REDIS_PREFIX) beside a and b, which keep history.
  const c = await startRedisGateway(server, { delivery: { historySize: 0 }, redis: { prefix: 'nohistory:' } });
  const d = await startRedisGateway(server, { delivery: { historySize: 0 }, redis: { prefix: 'nohistory:' } });
  const sub = await rawPublisherSubscriber('nohistory:');
  const cx = await TestClient.connect(c.url);
  const dx = await TestClient.connect(d.url);
  let busMessages = 0;
  try {
    sub.on('message', (_channel: string, text: string) => { if (text.includes('no history')) busMessages += 1; });
    await publish('notifications', { type: 'notification', message: 'no history' });
    const got = await expectOnce((m) => m.message === 'no history', [cx, dx]);
    await quietWindow(200); // nothing else may arrive: catches a second copy
    assert.equal(busMessages, 0);
    assert.ok(got.every((m) => m.stream_position === undefined));
  } finally {
    sub.disconnect();
    cx.close();
    dx.close();
    await c.close();
    await d.close();
  }
});

async function rawPublisherSubscriber(prefix = a.config.redis.prefix): Promise<Redis> {
  const sub = rawPublisher(server);
  await sub.subscribe(`${prefix}bus`);
  return sub;
}
