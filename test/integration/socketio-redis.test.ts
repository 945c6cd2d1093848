/**
 * Socket.IO and raw WebSocket clients on two gateways sharing a real redis-server, with a real
 * HTTP server standing in for PorticoEstate's /bookingfrontend/user: what PHP publishes reaches
 * every kind of client on every instance exactly once (through the gateway's own bus, no
 * Socket.IO adapter), rooms span kinds and instances, and user rooms follow the identity
 * PorticoEstate vouches for, never the one a Socket.IO client claims.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { rawPublisher, startRedisGateway, type RedisTestGateway } from '../helpers/redis-gateway.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { TEST_USER_ROOM_KEY, startPorticoAuthServer, type PorticoAuthServer } from '../helpers/portico-auth.js';
import { SioTestClient, type SioTransports } from '../helpers/sio-client.js';
import type { MessageRecorder } from '../helpers/recorder.js';
import { TestClient } from '../helpers/ws-client.js';

const SSN_X = '01017012345';

let server: RedisServer;
let portico: PorticoAuthServer;
let A: RedisTestGateway;
let B: RedisTestGateway;
let php: Redis;
const clients: Array<{ close(): void }> = [];


async function sio(gw: RedisTestGateway, transports: SioTransports, session?: string): Promise<SioTestClient> {
  const c = await SioTestClient.connect(gw.httpUrl, { transports, cookie: session ? `bookingfrontendsession=${session}` : undefined });
  clients.push(c);
  return c;
}

async function raw(gw: RedisTestGateway, session?: string): Promise<TestClient> {
  const c = await TestClient.connect(gw.url, { cookie: session ? `bookingfrontendsession=${session}` : undefined });
  clients.push(c);
  return c;
}

/** Every client in `all` sees `marker`; by then each of `recipients` had `text` exactly once, the others never. */
async function expectExactlyOnce(recipients: MessageRecorder[], all: MessageRecorder[], text: string, marker: string): Promise<void> {
  for (const c of all) {
    await c.next((m) => m.message === marker || m.notification?.message === marker, 10_000);
    const got = c.count((m) => m.message === text || m.notification?.message === text);
    assert.equal(got, recipients.includes(c) ? 1 : 0, `${text}: client ${all.indexOf(c)} got it ${got} times`);
  }
}

before(async () => {
  server = await startRedisServer();
  portico = await startPorticoAuthServer();
  portico.login('sioUserX1', { ssn: SSN_X });
  portico.login('sioUserX2', { ssn: SSN_X });
  const auth = { url: portico.userUrl, userRoomKey: TEST_USER_ROOM_KEY, retryMs: 200, timeoutMs: 500, cacheMs: 60_000 };
  A = await startRedisGateway(server, { auth });
  B = await startRedisGateway(server, { auth });
  php = rawPublisher(server);
});
after(async () => {
  for (const c of clients) c.close();
  php?.disconnect();
  await A?.close();
  await B?.close();
  await portico?.close();
  await server?.stop();
});

describe('two instances, Socket.IO and raw clients', () => {
  test('a PHP notification on Redis reaches every client on both instances exactly once', async () => {
    const all: MessageRecorder[] = [await sio(A, ['polling', 'websocket']), await sio(B, ['polling']), await raw(A), await raw(B)];
    await php.publish('notifications', JSON.stringify({ type: 'notification', message: 'to everyone' }));
    await php.publish('notifications', JSON.stringify({ type: 'notification', message: 'marker-all' }));
    await expectExactlyOnce(all, all, 'to everyone', 'marker-all');
    assert.equal(A.gateway.health().clients + B.gateway.health().clients, 4, 'both kinds are counted');
  });

  test('entity rooms span kinds and instances, both directions, exactly once', async () => {
    const sioA = await sio(A, ['websocket']);
    const pollB = await sio(B, ['polling']);
    const rawB = await raw(B);
    const outsider = await sio(A, ['websocket']);
    for (const c of [sioA, pollB]) {
      c.send({ type: 'subscribe', entityType: 'resource', entityId: 5 });
      await c.ofType('subscription_confirmation');
    }
    rawB.send({ type: 'subscribe', entityType: 'resource', entityId: 5 });
    await rawB.ofType('subscription_confirmation');
    const members = [sioA, pollB, rawB];
    const all = [...members, outsider];

    await php.publish('notifications', JSON.stringify({ type: 'entity_event', target: 'entity', entityType: 'resource', entityId: 5, message: 'from php' }));
    await php.publish('notifications', JSON.stringify({ type: 'notification', message: 'marker-entity-1' }));
    await expectExactlyOnce(members, all, 'from php', 'marker-entity-1');

    rawB.send({ type: 'room_message', roomId: 'entity_resource_5', message: 'raw on B to the room' });
    sioA.send({ type: 'entity_event', entityType: 'resource', entityId: 5, eventType: 'update', message: 'sio on A to the room' });
    await php.publish('notifications', JSON.stringify({ type: 'notification', message: 'marker-entity-2' }));
    await expectExactlyOnce([sioA, pollB], all, 'raw on B to the room', 'marker-entity-2');
    await php.publish('notifications', JSON.stringify({ type: 'notification', message: 'marker-entity-3' }));
    await expectExactlyOnce([pollB, rawB], all, 'sio on A to the room', 'marker-entity-3');
  });

  test('user rooms: the identity PorticoEstate vouches for (from the handshake cookie) reaches the user on both instances; a claimed ssn does not', async () => {
    const x1 = await sio(A, ['polling', 'websocket'], 'sioUserX1');
    const x2 = await sio(B, ['polling'], 'sioUserX2');
    const xRaw = await raw(B, 'sioUserX1');
    const claimer = await sio(B, ['websocket']);
    claimer.send({ type: 'update_session', sessionId: 'sioClaimer9', ssn: SSN_X, accountId: 7 });
    await claimer.ofType('session_update_confirmation');
    const anon = await sio(A, ['websocket'], 'sioAnonymous3');
    const all = [x1, x2, xRaw, claimer, anon];

    const userMessage = { type: 'notification_event', eventType: 'new', target: 'user', userType: 'bb_user', identifier: SSN_X, notification: { message: 'for X only' } };
    await php.publish('notifications', JSON.stringify(userMessage));
    await php.publish('notifications', JSON.stringify({ type: 'notification', message: 'marker-user' }));
    await expectExactlyOnce([x1, x2, xRaw], all, 'for X only', 'marker-user');
    const got = x1.all.find((m) => m.notification?.message === 'for X only');
    assert.equal(got?.identifier, undefined, 'the identifier does not reach the browser');
    assert.ok(!JSON.stringify(x1.all).includes(SSN_X));
  });

  test('session_messages from PHP reach a Socket.IO page of that session on the other instance', async () => {
    const page = await sio(B, ['polling', 'websocket'], 'sioCartSession4');
    await php.publish('session_messages', JSON.stringify({ type: 'session_targeted', sessionId: 'sioCartSession4', data: { type: 'server_message', action: 'new', message: 'cart updated' } }));
    assert.equal((await page.next((m) => m.message === 'cart updated')).type, 'server_message');
    await php.publish('session_messages', JSON.stringify({ type: 'refresh_bookinguser', sessionId: 'sioCartSession4' }));
    assert.equal((await page.ofType('refresh_bookinguser')).action, 'refresh');
  });
});
