import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import {
  PublishError, PublisherArgumentError, createPublisher, entityEventPayload, entityNotificationPayload, notificationPayload,
  partialApplicationsUpdatePayload, roomMessagePayload, sessionMessagePayload,
} from '../../src/publisher/index.js';
import { CHANNELS } from '../../src/protocol/constants.js';
import { classifySpoolFile } from '../../src/server/ingress/spool.js';
import { startTestGateway, tempDir } from '../helpers/gateway.js';
import { freePort, startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { TestClient } from '../helpers/ws-client.js';

let redis: RedisServer;
let subscriber: Redis;
const received: Array<{ channel: string; payload: Record<string, unknown> }> = [];

before(async () => {
  redis = await startRedisServer();
  subscriber = new Redis(redis.url);
  await subscriber.subscribe(...CHANNELS);
  subscriber.on('message', (channel: string, text: string) => received.push({ channel, payload: JSON.parse(text) }));
});
after(async () => {
  subscriber.disconnect();
  await redis.stop();
});

async function nextReceived(count: number): Promise<typeof received> {
  const deadline = Date.now() + 5000;
  while (received.length < count) {
    if (Date.now() > deadline) throw new Error(`expected ${count} messages on Redis, got ${received.length}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return received.splice(0, count);
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

function withoutTimestamp(payload: Record<string, unknown>): Record<string, unknown> {
  assert.match(String(payload.timestamp), ISO);
  const { timestamp: _t, ...rest } = payload;
  return rest;
}

test('every helper publishes exactly the PHP payload on its channel, and reports the subscriber count', async () => {
  const publisher = createPublisher({ redis: redis.url, spoolDir: false });
  try {
    const results = [
      await publisher.sendWebSocketNotification('New booking created', { id: 7 }),
      await publisher.sendWebSocketNotification('Custom', {}, 'cache_invalidation'),
      await publisher.sendToSession('sessAbc123', 'Your booking', { type: 'booking_update', id: 3 }),
      await publisher.sendRoomMessage('session_0123456789', { message: 'hi', data: { a: 1 } }),
      await publisher.sendEntityNotification('resource', 42, 'Resource changed', 'updated', { field: 'name' }),
      await publisher.sendEntityEvent('application', '17', 'new_comment', { text: 'x' }),
      await publisher.triggerPartialApplicationsUpdate('sessAbc123'),
    ];
    for (const r of results) assert.deepEqual(r, { path: 'redis', receivers: 1, fallbacks: [] });
    const got = (await nextReceived(7)).map((m) => ({ channel: m.channel, payload: withoutTimestamp(m.payload) }));
    assert.deepEqual(got, [
      { channel: 'notifications', payload: { type: 'notification', message: 'New booking created', data: { id: 7 } } },
      { channel: 'notifications', payload: { type: 'cache_invalidation', message: 'Custom', data: {} } },
      { channel: 'session_messages', payload: { type: 'session_targeted', sessionId: 'sessAbc123', message: 'Your booking', data: { type: 'booking_update', id: 3 } } },
      { channel: 'room_messages', payload: { type: 'room_message', roomId: 'session_0123456789', message: 'hi', data: { a: 1 } } },
      {
        channel: 'room_messages',
        payload: { type: 'room_message', roomId: 'entity_resource_42', entityType: 'resource', entityId: 42, action: 'updated', message: 'Resource changed', data: { field: 'name' } },
      },
      { channel: 'notifications', payload: { type: 'entity_event', target: 'entity', entityType: 'application', entityId: '17', eventType: 'new_comment', data: { text: 'x' } } },
      { channel: 'session_messages', payload: { type: 'update_partial_applications', sessionId: 'sessAbc123' } },
    ]);
  } finally {
    await publisher.close();
  }
});

test('receivers is 0 when nobody subscribes to the channel', async () => {
  await subscriber.unsubscribe('room_messages');
  const publisher = createPublisher({ redis: redis.url, spoolDir: false });
  try {
    assert.deepEqual(await publisher.sendRoomMessage('entity_x_1', {}), { path: 'redis', receivers: 0, fallbacks: [] });
  } finally {
    await publisher.close();
    await subscriber.subscribe('room_messages');
  }
});

test('bad arguments throw at once with a message naming the argument', () => {
  const publisher = createPublisher({ spoolDir: false });
  assert.throws(() => publisher.sendWebSocketNotification(''), (e: Error) => e instanceof PublisherArgumentError && /message/.test(e.message));
  assert.throws(() => publisher.sendWebSocketNotification('m', [] as never), /data must be a plain object/);
  assert.throws(() => publisher.sendWebSocketNotification('m', {}, 'bad type!'), /type/);
  assert.throws(() => publisher.sendToSession('bad session!', 'm'), /sessionId/);
  assert.throws(() => publisher.sendRoomMessage('', {}), /roomId/);
  assert.throws(() => publisher.sendEntityNotification('resource', 1, 'm', 'exploded' as never), /action must be one of/);
  assert.throws(() => publisher.sendEntityNotification('resource', -1, 'm', 'new'), /entityId/);
  assert.throws(() => publisher.sendEntityEvent('bad type', 1, 'e'), /entityType/);
  assert.throws(() => publisher.triggerPartialApplicationsUpdate(''), /sessionId/);
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.throws(() => notificationPayload('m', cyclic), /cannot be serialised/);
});

test('payload builders keep roomId and type fixed', () => {
  const msg = roomMessagePayload('entity_building_5', { type: 'other', roomId: 'elsewhere', extra: true });
  assert.equal(msg.payload.type, 'room_message');
  assert.equal(msg.payload.roomId, 'entity_building_5');
  assert.equal(msg.payload.extra, true);
  assert.equal(entityNotificationPayload('building', 'b-5', 'm', 'new').payload.roomId, 'entity_building_b-5');
  assert.equal(sessionMessagePayload('s1', 'm').channel, 'session_messages');
  assert.equal(entityEventPayload('a', 1, 'e').channel, 'notifications');
  assert.equal(partialApplicationsUpdatePayload('s1').channel, 'session_messages');
});

test('Redis down: falls back to a complete spool file, mode 0600, that the gateway recognises', async () => {
  const dir = tempDir();
  const deadPort = await freePort();
  const publisher = createPublisher({ redis: `redis://127.0.0.1:${deadPort}`, spoolDir: dir, timeoutMs: 500 });
  try {
    const result = await publisher.sendWebSocketNotification('while redis is down', { n: 1 });
    assert.equal(result.path, 'spool');
    assert.equal(result.receivers, undefined);
    assert.equal(result.fallbacks.length, 1);
    assert.equal(result.fallbacks[0]!.path, 'redis');
    const file = result.file!;
    assert.equal(path.dirname(file), dir);
    assert.deepEqual(classifySpoolFile(path.basename(file)), { channel: 'notifications' });
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(withoutTimestamp(JSON.parse(fs.readFileSync(file, 'utf8'))), { type: 'notification', message: 'while redis is down', data: { n: 1 } });
    assert.deepEqual(fs.readdirSync(dir), [path.basename(file)], 'no temporary file is left behind');

    const session = await publisher.sendToSession('sess_with_underscores_1', 'm', { type: 't' });
    assert.deepEqual(classifySpoolFile(path.basename(session.file!)), { channel: 'session_messages', sessionId: 'sess_with_underscores_1' });

    // Two files published in the same millisecond never collide.
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => publisher.sendWebSocketNotification(`m${i}`)));
    assert.equal(new Set(many.map((r) => r.file)).size, 20);
  } finally {
    await publisher.close();
  }
});

test('room messages spool as websocket_room_ files that the gateway delivers unchanged to the room', async () => {
  const gw = await startTestGateway();
  const publisher = createPublisher({ spoolDir: gw.spoolDir });
  try {
    const member = await TestClient.connect(gw.url);
    const outsider = await TestClient.connect(gw.url);
    member.send({ type: 'subscribe', entityType: 'resource', entityId: 42 });
    await member.ofType('subscription_confirmation');
    const entity = await publisher.sendEntityNotification('resource', 42, 'm', 'changed');
    assert.equal(entity.path, 'spool');
    assert.deepEqual(classifySpoolFile(path.basename(entity.file!)), { channel: 'room_messages' });
    const got = await member.next((m) => m.type === 'room_message' && m.roomId === 'entity_resource_42', 10_000);
    assert.equal(got.action, 'changed');
    assert.equal(got.target, undefined, 'delivered exactly as published');
    const other = await publisher.sendRoomMessage('entity_building_7', { note: 'x' });
    assert.deepEqual(classifySpoolFile(path.basename(other.file!)), { channel: 'room_messages' });
    assert.ok(await outsider.expectNone((m) => m.type === 'room_message'));
    member.close();
    outsider.close();
  } finally {
    await publisher.close();
    await gw.close();
  }
});

test('no path configured: PublishError', async () => {
  await assert.rejects(createPublisher({ spoolDir: false }).sendWebSocketNotification('m'), PublishError);
});

test('spooled messages reach the gateway\'s clients, exactly as the Redis path would deliver them', async () => {
  const gw = await startTestGateway();
  const publisher = createPublisher({ redis: `redis://127.0.0.1:${await freePort()}`, spoolDir: gw.spoolDir, timeoutMs: 300 });
  try {
    const all = await TestClient.connect(gw.url, { cookie: 'PHPSESSID=spoolTarget123' });
    const watcher = await TestClient.connect(gw.url);
    watcher.send({ type: 'subscribe', entityType: 'resource', entityId: 42 });
    await watcher.ofType('subscription_confirmation');

    assert.equal((await publisher.sendWebSocketNotification('spooled broadcast', { k: 'v' })).path, 'spool');
    const b = await all.next((m) => m.message === 'spooled broadcast', 10_000);
    assert.equal(b.type, 'notification');
    assert.deepEqual(b.data, { k: 'v' });

    await publisher.sendToSession('spoolTarget123', 'ignored', { type: 'booking_update', id: 5 });
    const s = await all.next((m) => m.type === 'booking_update', 10_000);
    assert.equal(s.id, 5);

    await publisher.sendEntityNotification('resource', 42, 'resource changed', 'updated', { name: 'Hall' });
    const e = await watcher.next((m) => m.message === 'resource changed', 10_000);
    assert.equal(e.type, 'room_message');
    assert.equal(e.roomId, 'entity_resource_42');
    assert.equal(e.action, 'updated');
    assert.deepEqual(e.data, { name: 'Hall' });
    assert.ok(await all.expectNone((m) => m.message === 'resource changed'), 'only the entity room gets it');

    await publisher.triggerPartialApplicationsUpdate('spoolTarget123');
    const p = await all.next((m) => m.type === 'partial_applications_response', 10_000);
    assert.equal(p.data.source, 'server_push');
    all.close();
    watcher.close();
  } finally {
    await publisher.close();
    await gw.close();
  }
});

test('HTTP publish path is used when Redis fails, before the spool', async () => {
  const token = 'publisher-http-token';
  const gw = await startTestGateway({ publish: { token } });
  const spoolDir = tempDir();
  const publisher = createPublisher({
    redis: `redis://127.0.0.1:${await freePort()}`, http: { url: `${gw.httpUrl}/publish`, token }, spoolDir, timeoutMs: 300,
  });
  try {
    const client = await TestClient.connect(gw.url);
    const result = await publisher.sendWebSocketNotification('via the endpoint');
    assert.equal(result.path, 'http');
    assert.deepEqual(result.fallbacks.map((f) => f.path), ['redis']);
    const msg = await client.next((m) => m.message === 'via the endpoint');
    assert.equal(msg.source, 'http');
    assert.deepEqual(fs.readdirSync(spoolDir), []);

    // A wrong token is a failed path too: the spool takes it, and the reason is reported.
    const wrong = createPublisher({ http: { url: `${gw.httpUrl}/publish`, token: 'nope' }, spoolDir });
    const r2 = await wrong.sendWebSocketNotification('spooled instead');
    assert.equal(r2.path, 'spool');
    assert.match(r2.fallbacks[0]!.error, /401/);
    client.close();
  } finally {
    await publisher.close();
    await gw.close();
  }
});

test('Redis back after an outage: the same publisher uses it again', async () => {
  const server = await startRedisServer();
  const sub = new Redis(server.url);
  const got: string[] = [];
  await sub.subscribe('notifications');
  sub.on('message', (_c: string, t: string) => got.push(JSON.parse(t).message));
  const publisher = createPublisher({ redis: server.url, spoolDir: tempDir(), timeoutMs: 500 });
  try {
    assert.equal((await publisher.sendWebSocketNotification('one')).path, 'redis');
    await server.stop();
    assert.equal((await publisher.sendWebSocketNotification('two')).path, 'spool');
    await server.restart();
    const deadline = Date.now() + 15_000;
    let result = await publisher.sendWebSocketNotification('three');
    while (result.path !== 'redis' || result.receivers === 0) {
      if (Date.now() > deadline) throw new Error(`publisher did not return to Redis: ${JSON.stringify(result)}`);
      await new Promise((r) => setTimeout(r, 200));
      result = await publisher.sendWebSocketNotification('three');
    }
    assert.equal(result.receivers, 1);
    const until = Date.now() + 5000;
    while (!got.includes('three') && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    assert.ok(got.includes('one') && got.includes('three'));
    assert.ok(!got.includes('two'));
  } finally {
    await publisher.close();
    sub.disconnect();
    await server.stop();
  }
});


test('importable as portico-ws/publisher (package exports, built dist/)', async () => {
  const mod = await import('portico-ws/publisher');
  assert.equal(typeof mod.createPublisher, 'function');
  assert.equal(typeof mod.sendWebSocketNotification, 'function');
  const dir = tempDir();
  const result = await mod.createPublisher({ spoolDir: dir }).sendWebSocketNotification('via the package name');
  assert.equal(result.path, 'spool');
  assert.equal(JSON.parse(fs.readFileSync(result.file!, 'utf8')).message, 'via the package name');
});
