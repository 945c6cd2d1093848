/**
 * Three gateways sharing one redis-server behave as one: every client relay type reaches the
 * matching connections on every instance exactly once, the sender is excluded where the protocol
 * says so, session and entity targeting work across instances, and a spool file picked up by one
 * instance reaches the clients of all of them.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { sessionRoomId } from '../../src/server/session.js';
import { quietWindow, startRedisGateway, type RedisTestGateway } from '../helpers/redis-gateway.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { TestClient, type Msg } from '../helpers/ws-client.js';

let server: RedisServer;
let gws: RedisTestGateway[] = [];
// a1 and b1 share session one (on gateways A and B); c1 has session three; c2 has none.
// a1, b1 and c1 are subscribed to entity resource 7.
let a1: TestClient, a2: TestClient, b1: TestClient, c1: TestClient, c2: TestClient;
let everyone: TestClient[];

before(async () => {
  server = await startRedisServer();
  gws = [await startRedisGateway(server), await startRedisGateway(server), await startRedisGateway(server)];
  const [A, B, C] = gws as [RedisTestGateway, RedisTestGateway, RedisTestGateway];
  a1 = await TestClient.connect(A.url, { cookie: 'PHPSESSID=session-one-0001' });
  a2 = await TestClient.connect(A.url, { cookie: 'PHPSESSID=session-two-0002' });
  b1 = await TestClient.connect(B.url, { cookie: 'PHPSESSID=session-one-0001' });
  c1 = await TestClient.connect(C.url, { cookie: 'bookingfrontendsession=session-three-0003' });
  c2 = await TestClient.connect(C.url);
  everyone = [a1, a2, b1, c1, c2];
  for (const c of [a1, b1, c1]) {
    c.send({ type: 'subscribe', entityType: 'resource', entityId: 7 });
    await c.ofType('subscription_confirmation');
  }
});

after(async () => {
  for (const c of everyone ?? []) c.close();
  for (const g of gws) await g.close();
  await server?.stop();
});

/**
 * Wait for each of `receivers` to get exactly one message matching `pred`, then make sure no
 * other connection got it and nobody got a second copy.
 */
async function expectExactlyOnce(pred: (m: Msg) => boolean, receivers: TestClient[]): Promise<Msg[]> {
  const got = await Promise.all(receivers.map((c) => c.next(pred, 5000)));
  await quietWindow(300); // nothing else may arrive: catches a second copy or a stray delivery
  for (const c of everyone) {
    assert.equal(c.count(pred), 0, receivers.includes(c) ? 'a receiver got a second copy' : 'a non-receiver got it');
  }
  return got;
}

test('all three instances are connected over one subscriber connection each', async () => {
  for (const g of gws) assert.equal(g.gateway.health().redis, 'connected');
  assert.equal(new Set(gws.map((g) => g.config.instanceId)).size, 3);
});

test('chat: every other connection on every instance once, never the sender', async () => {
  a1.send({ type: 'chat', message: 'hello cluster' });
  const got = await expectExactlyOnce((m) => m.type === 'chat' && m.message === 'hello cluster', [a2, b1, c1, c2]);
  assert.equal(got[0]!.source, 'client');
  assert.deepEqual(got[1]!.sessionContext, { hasSession: true, sessionType: 'standard' });
});

test('notification: every connection once, sender included', async () => {
  b1.send({ type: 'notification', message: 'note from b' });
  await expectExactlyOnce((m) => m.type === 'notification' && m.message === 'note from b', everyone);
});

test('unknown type: every other connection once', async () => {
  c2.send({ type: 'custom_thing', payload: 123 });
  await expectExactlyOnce((m) => m.type === 'custom_thing' && m.payload === 123, [a1, a2, b1, c1]);
});

test('message without type: every other connection once', async () => {
  a2.send({ message: 'typeless' });
  await expectExactlyOnce((m) => m.message === 'typeless', [a1, b1, c1, c2]);
});

test('room_message: other members of the room on every instance once; non-members refused', async () => {
  a1.send({ type: 'room_message', roomId: 'entity_resource_7', message: 'to the room' });
  await expectExactlyOnce((m) => m.type === 'room_message' && m.message === 'to the room', [b1, c1]);

  c2.send({ type: 'room_message', roomId: 'entity_resource_7', message: 'intruder' });
  assert.equal((await c2.ofType('error')).code, 'ROOM_ACCESS_DENIED');
  await quietWindow(300); // nothing else may arrive: catches a second copy or a stray delivery
  for (const c of everyone) assert.equal(c.count((m) => m.message === 'intruder'), 0);
});

test('session_message: the same session on another instance gets it as room_message, sender excluded', async () => {
  a1.send({ type: 'session_message', message: 'sync tabs' });
  const [m] = await expectExactlyOnce((x) => x.message === 'sync tabs', [b1]);
  assert.equal(m!.type, 'room_message');
  assert.equal(m!.roomId, sessionRoomId('session-one-0001'));
});

test('entity_event: subscribers of that entity on other instances once, sender excluded', async () => {
  c1.send({ type: 'entity_event', entityType: 'resource', entityId: 7, action: 'booked' });
  await expectExactlyOnce((m) => m.type === 'entity_event' && m.action === 'booked', [a1, b1]);
  // A member on one instance reaches the room's members on another.
  for (const c of [a2, c1]) {
    c.send({ type: 'subscribe', entityType: 'building', entityId: 3 });
    await c.ofType('subscription_confirmation');
  }
  c1.send({ type: 'entity_event', entityType: 'building', entityId: 3, action: 'opened' });
  await expectExactlyOnce((m) => m.type === 'entity_event' && m.action === 'opened', [a2]);
});

test('a burst of chats arrives complete, in order, once per receiver', async () => {
  for (let i = 0; i < 50; i++) b1.send({ type: 'chat', message: `burst-${i}` });
  const isBurst = (m: Msg) => m.type === 'chat' && typeof m.message === 'string' && m.message.startsWith('burst-');
  for (const c of [a1, a2, c1, c2]) {
    for (let i = 0; i < 50; i++) assert.equal((await c.next(isBurst, 5000)).message, `burst-${i}`);
  }
  await quietWindow(300); // nothing else may arrive: catches a second copy or a stray delivery
  for (const c of everyone) assert.equal(c.count(isBurst), 0);
});

test('spool file on one instance reaches the clients of every instance once', async () => {
  const [A] = gws as [RedisTestGateway];
  const file = path.join(A.spoolDir, `websocket_notification_${Date.now()}.123456.json`);
  fs.writeFileSync(file, JSON.stringify({ type: 'notification', message: 'from the spool', data: {} }));
  const got = await expectExactlyOnce((m) => m.message === 'from the spool', everyone);
  assert.equal(got[0]!.source, 'spool');
});

test('session-targeted spool file reaches that session on every instance', async () => {
  const [, , C] = gws as [RedisTestGateway, RedisTestGateway, RedisTestGateway];
  const file = path.join(C.spoolDir, `websocket_session_session-one-0001_${Date.now()}.5.json`);
  fs.writeFileSync(file, JSON.stringify({ type: 'session_targeted', sessionId: 'session-one-0001', message: 'm', data: { type: 'cart', n: 1 } }));
  await expectExactlyOnce((m) => m.type === 'cart' && m.n === 1, [a1, b1]);
});
