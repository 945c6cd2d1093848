/**
 * The Socket.IO front door on one gateway, with socket.io-client over websocket (after the
 * polling handshake, as the Next.js client connects) and over polling only: greetings with and
 * without a session cookie, every message type the Next.js client uses, the NestJS gateway's
 * reply shapes, UNSUPPORTED_TYPE, rooms shared with raw WebSocket clients in both directions,
 * /health counts, reconnect_required on shutdown.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { UNSUPPORTED_REQUEST_TYPES } from '../../src/protocol/constants.js';
import { sessionRoomId } from '../../src/server/session.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { SioTestClient, type SioTransports } from '../helpers/sio-client.js';
import { waitFor } from '../helpers/wait.js';
import { TestClient } from '../helpers/ws-client.js';

let gw: TestGateway;
const clients: Array<{ close(): void }> = [];

before(async () => { gw = await startTestGateway({ timers: { serverPingMs: 300 } }); });
after(async () => {
  for (const c of clients) c.close();
  await gw?.close();
});

async function sio(transports: SioTransports, opts: { cookie?: string; path?: string } = {}): Promise<SioTestClient> {
  const c = await SioTestClient.connect(gw.httpUrl, { transports, ...opts });
  clients.push(c);
  return c;
}

async function raw(cookie?: string): Promise<TestClient> {
  const c = await TestClient.connect(gw.url, { cookie });
  clients.push(c);
  return c;
}

const KINDS: Array<{ name: string; transports: SioTransports; expected: string; tag: string }> = [
  { name: 'websocket (polling handshake, then upgrade)', transports: ['polling', 'websocket'], expected: 'websocket', tag: 'W' },
  { name: 'polling only', transports: ['polling'], expected: 'polling', tag: 'P' },
];

for (const kind of KINDS) {
  describe(`Socket.IO over ${kind.name}`, () => {
    test('with a session cookie: room_joined for the session room, then connection_success listing the rooms', async () => {
      const session = `sioCookieSession${kind.tag}`;
      const c = await sio(kind.transports, { cookie: `bookingfrontendsession=${session}` });
      const room = sessionRoomId(session);
      const [joined, success] = c.all;
      assert.equal(joined?.type, 'room_joined');
      assert.equal(joined?.roomId, room);
      assert.equal(joined?.roomType, 'session');
      assert.equal(joined?.roomSize, 1);
      assert.equal(success?.type, 'connection_success');
      assert.equal(success?.roomId, room);
      assert.deepEqual(success?.rooms, [{ id: room, size: 1, type: 'session' }]);
      assert.ok(!JSON.stringify(c.all).includes(session), 'the session id never reaches the client in clear');
      await waitFor(() => c.transport === kind.expected, `transport ${kind.expected}`);
    });

    test('without a session: session_id_required; update_session then joins the session room', async () => {
      const c = await sio(kind.transports);
      assert.deepEqual(c.all.map((m) => m.type).filter((t) => t !== 'server_ping'), ['session_id_required', 'connection_success']);
      assert.equal(c.all[0]?.code, 'NO_SESSION');
      const session = `sioUpdatedSession${kind.tag}`;
      c.send({ type: 'update_session', message: 'Updating session ID', sessionId: session });
      const joined = await c.ofType('room_joined');
      assert.equal(joined.roomId, sessionRoomId(session));
      const confirmation = await c.ofType('session_update_confirmation');
      assert.equal(confirmation.success, true);
      assert.equal(confirmation.action, 'set');
      assert.equal(confirmation.wasRequired, true);
      assert.equal(confirmation.sessionId, 'sioUpdat...');
      assert.deepEqual(confirmation.rooms, [{ id: sessionRoomId(session), size: 1, type: 'session' }]);
      c.send({ type: 'update_session', sessionId: session });
      const unchanged = await c.ofType('session_update_confirmation');
      assert.equal(unchanged.action, 'none');
      assert.ok(await c.expectNone((m) => m.type === 'room_joined', 200), 'no room_joined when the session did not change');
    });

    test('subscribe: room_joined (entity) then subscription_confirmation; unsubscribe confirms', async () => {
      const c = await sio(kind.transports);
      c.send({ type: 'subscribe', message: 'Subscribing to resource 42', entityType: 'resource', entityId: 42, timestamp: new Date().toISOString() });
      const joined = await c.ofType('room_joined');
      assert.deepEqual([joined.roomId, joined.roomType, joined.entityType, joined.entityId], ['entity_resource_42', 'entity', 'resource', 42]);
      const confirmed = await c.ofType('subscription_confirmation');
      assert.equal(confirmed.status, 'subscribed');
      c.send({ type: 'unsubscribe', entityType: 'resource', entityId: 42 });
      assert.equal((await c.ofType('subscription_confirmation')).status, 'unsubscribed');
    });

    test('server_ping arrives and the client\'s pong is taken without a reply; ping is answered pong', async () => {
      const c = await sio(kind.transports);
      const ping = await c.ofType('server_ping');
      c.send({ type: 'pong', timestamp: new Date().toISOString(), reply_to: ping.id });
      c.send({ type: 'ping', id: 'p1' });
      const pong = await c.ofType('pong');
      assert.equal(pong.reply_to, 'p1');
      assert.ok(await c.expectNone((m) => m.type === 'error', 200), 'pong is not an error');
    });

    test('every request type the gateway does not serve is answered UNSUPPORTED_TYPE naming it, and relayed to nobody', async () => {
      const c = await sio(kind.transports);
      const bystander = await raw();
      for (const type of UNSUPPORTED_REQUEST_TYPES) {
        c.send({ type, requestId: 'r1', applicationId: 5 });
        const error = await c.next((m) => m.type === 'error' && m.code === 'UNSUPPORTED_TYPE' && String(m.message).includes(`'${type}'`));
        assert.ok(error.timestamp);
      }
      assert.ok(await bystander.expectNone((m) => UNSUPPORTED_REQUEST_TYPES.has(m.type)), 'never broadcast');
    });
  });
}

describe('rooms shared with raw WebSocket clients', () => {
  test('entity_event from Socket.IO reaches a raw subscriber; room_message from raw reaches Socket.IO', async () => {
    const s = await sio(['websocket']);
    const p = await sio(['polling']);
    const r = await raw();
    for (const c of [s, p]) {
      c.send({ type: 'subscribe', entityType: 'building', entityId: 9 });
      await c.ofType('subscription_confirmation');
    }
    r.send({ type: 'subscribe', entityType: 'building', entityId: 9 });
    await r.ofType('subscription_confirmation');

    s.send({ type: 'entity_event', entityType: 'building', entityId: 9, eventType: 'update', data: { from: 'sio' } });
    assert.equal((await r.next((m) => m.type === 'entity_event')).data.from, 'sio');
    assert.equal((await p.next((m) => m.type === 'entity_event')).data.from, 'sio');

    r.send({ type: 'room_message', roomId: 'entity_building_9', message: 'from raw' });
    for (const c of [s, p]) assert.equal((await c.next((m) => m.type === 'room_message')).message, 'from raw');
    assert.ok(await r.expectNone((m) => m.type === 'room_message'), 'the sender does not get its own room_message');
  });

  test('a session_message from a raw page reaches the same session\'s Socket.IO page (and no other)', async () => {
    const rawPage = await raw('bookingfrontendsession=sharedSession77');
    const sioPage = await sio(['polling', 'websocket'], { cookie: 'PHPSESSID=sharedSession77' });
    const other = await sio(['websocket'], { cookie: 'bookingfrontendsession=otherSession88' });
    rawPage.send({ type: 'session_message', message: 'cart changed' });
    const got = await sioPage.next((m) => m.type === 'room_message');
    assert.equal(got.roomId, sessionRoomId('sharedSession77'));
    assert.ok(await other.expectNone((m) => m.message === 'cart changed'));
  });

  test('a chat from Socket.IO reaches raw clients marked source: client, and /health counts both kinds', async () => {
    const before = gw.gateway.health().clients;
    const s = await sio(['websocket']);
    const r = await raw();
    assert.equal(gw.gateway.health().clients, before + 2);
    s.send({ type: 'chat', message: 'hello from next.js' });
    const chat = await r.next((m) => m.type === 'chat');
    assert.equal(chat.source, 'client');
    s.close();
    await waitFor(() => gw.gateway.health().clients === before + 1, 'the closed Socket.IO client leaves the count');
  });

  test('/socket.io (without the proxy prefix) is the same endpoint', async () => {
    const c = await sio(['websocket'], { path: '/socket.io', cookie: 'bookingfrontendsession=noPrefixSession' });
    assert.equal(c.all[1]?.roomId, sessionRoomId('noPrefixSession'));
  });
});

describe('client claims and shutdown', () => {
  test('ssn and accountId claimed in update_session add no user room', async () => {
    const c = await sio(['websocket']);
    c.send({ type: 'update_session', sessionId: 'claimingSession1', ssn: '01017012345', accountId: 7 });
    const confirmation = await c.ofType('session_update_confirmation');
    assert.deepEqual(confirmation.rooms.map((r: { type: string }) => r.type), ['session']);
    const conn = [...gw.gateway.connections].find((x) => x.sessionId === 'claimingSession1');
    assert.ok(conn);
    assert.deepEqual(conn.roomIds(), [sessionRoomId('claimingSession1')]);
  });

  test('a gateway shutting down tells Socket.IO clients reconnect_required, then disconnects them', async () => {
    const own = await startTestGateway();
    const c = await SioTestClient.connect(own.httpUrl, { transports: ['websocket'] });
    const p = await SioTestClient.connect(own.httpUrl, { transports: ['polling'] });
    const closing = own.close();
    for (const x of [c, p]) {
      assert.ok((await x.ofType('reconnect_required')).message);
      assert.equal(await x.waitDisconnected(), 'io server disconnect');
    }
    await closing;
  });
});

describe('limits apply to Socket.IO connections', () => {
  test('a burst beyond the rate limit gets RATE_LIMITED; an oversized message closes the connection', async () => {
    const own = await startTestGateway({ limits: { maxMessageBytes: 4096, ratePerSecond: 1, rateBurst: 3, rateCloseAfter: 1000 } });
    try {
      const c = await SioTestClient.connect(own.httpUrl, { transports: ['websocket'] });
      for (let i = 0; i < 6; i++) c.send({ type: 'ping', id: `burst-${i}` });
      assert.equal((await c.next((m) => m.type === 'error')).code, 'RATE_LIMITED');
      assert.ok(c.count((m) => m.type === 'pong') <= 3, 'at most the burst was served');

      const big = await SioTestClient.connect(own.httpUrl, { transports: ['websocket'] });
      big.send({ type: 'chat', message: 'x'.repeat(8192) });
      assert.equal(await big.waitDisconnected(), 'transport close');
      await waitFor(() => own.gateway.connections.size === 1, 'the oversized sender gone, the other kept');
    } finally {
      await own.close();
    }
  });
});
