import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sharedTestGateway } from '../helpers/gateway.js';
import { TestClient } from '../helpers/ws-client.js';
import { sessionRoomId } from '../../src/server/session.js';

const shared = sharedTestGateway();
const connect = (cookie?: string, path?: string) => shared.connect(cookie, path);

describe('connect', () => {
  test('with a session cookie: connection_success with the session room', async () => {
    const c = await connect('PHPSESSID=sessAAA111');
    const first = JSON.parse(c.raw[0]!);
    assert.equal(first.type, 'connection_success');
    assert.equal(first.message, 'Successfully connected to WebSocket server');
    assert.equal(first.roomId, sessionRoomId('sessAAA111'));
    assert.ok(!Number.isNaN(Date.parse(first.timestamp)));
  });

  test('without a session: session_id_required, then connection_success with roomId null', async () => {
    const c = await connect();
    const [first, second] = c.raw.map((r) => JSON.parse(r));
    assert.equal(first.type, 'session_id_required');
    assert.equal(first.code, 'NO_SESSION');
    assert.equal(second.type, 'connection_success');
    assert.equal(second.roomId, null);
  });

  test('upgrade accepted on /, /wss and /wss/; refused elsewhere', async () => {
    for (const p of ['/', '/wss', '/wss/']) assert.ok(await connect(undefined, p));
    await assert.rejects(TestClient.connect(shared.gw.url.replace('/wss', '/other')), /404/);
  });
});

describe('client messages', () => {
  test('ping → pong with reply_to and heartbeat_id', async () => {
    const c = await connect();
    c.send({ type: 'ping', id: 'p-1', heartbeat_id: 'hb-9', count: 3 });
    const pong = await c.ofType('pong');
    assert.equal(pong.reply_to, 'p-1');
    assert.equal(pong.heartbeat_id, 'hb-9');
    assert.match(pong.id, /^pong_/);
    c.send({ type: 'ping' });
    const bare = await c.ofType('pong');
    assert.equal(bare.reply_to, null);
    assert.equal(bare.heartbeat_id, null);
  });

  test('non-JSON frame → INVALID_JSON and the connection stays usable', async () => {
    const c = await connect();
    c.send('this is {not json');
    assert.equal((await c.ofType('error')).code, 'INVALID_JSON');
    c.send('[1,2]');
    assert.equal((await c.ofType('error')).code, 'INVALID_MESSAGE');
    c.send({ type: 'ping', id: 'still-alive' });
    assert.equal((await c.ofType('pong')).reply_to, 'still-alive');
  });

  test('update_user_info: integer accepted, garbage rejected', async () => {
    const c = await connect();
    c.send({ type: 'update_user_info', userId: 123 });
    const ok = await c.ofType('user_info_update_confirmation');
    assert.deepEqual([ok.success, ok.userId, ok.message], [true, 123, 'User information updated successfully']);
    for (const bad of ['abc', 1.5, null, true, {}]) {
      c.send({ type: 'update_user_info', userId: bad });
      assert.equal((await c.ofType('error')).code, 'INVALID_USER_ID', JSON.stringify(bad));
    }
  });

  test('update_session: set, none, updated; invalid rejected; rooms follow', async () => {
    const a = await connect();
    const peer = await connect('PHPSESSID=sessionTwo22');
    a.send({ type: 'update_session', sessionId: 'sessionOne11abcdef' });
    const set = await a.ofType('session_update_confirmation');
    assert.deepEqual([set.action, set.wasRequired, set.sessionId], ['set', true, 'sessionO...']);
    a.send({ type: 'update_session', sessionId: 'sessionOne11abcdef' });
    assert.equal((await a.ofType('session_update_confirmation')).action, 'none');
    a.send({ type: 'update_session', sessionId: 'sessionTwo22' });
    const upd = await a.ofType('session_update_confirmation');
    assert.deepEqual([upd.action, upd.wasRequired], ['updated', false]);
    assert.equal(shared.gw.gateway.rooms.roomIds('session').includes(sessionRoomId('sessionOne11abcdef')), false, 'old session room left');
    // now in peer's session room: session_message reaches the peer
    a.send({ type: 'session_message', text: 'hello twin' });
    const relayed = await peer.next((m) => m.text === 'hello twin');
    assert.equal(relayed.type, 'room_message');
    assert.equal(relayed.roomId, sessionRoomId('sessionTwo22'));
    for (const bad of ['', 42, 'has space', 'x'.repeat(500)]) {
      a.send({ type: 'update_session', sessionId: bad });
      assert.equal((await a.ofType('error')).code, 'INVALID_SESSION_ID');
    }
  });

  test('subscribe / entity_event / unsubscribe', async () => {
    const a = await connect('PHPSESSID=entityA01');
    const b = await connect();
    const outsider = await connect();
    for (const c of [a, b]) {
      c.send({ type: 'subscribe', entityType: 'resource', entityId: 42 });
      const conf = await c.ofType('subscription_confirmation');
      assert.deepEqual([conf.entityType, conf.entityId, conf.status, conf.roomId], ['resource', 42, 'subscribed', 'entity_resource_42']);
    }
    a.send({ type: 'entity_event', entityType: 'resource', entityId: 42, action: 'updated' });
    const ev = await b.next((m) => m.type === 'entity_event');
    assert.equal(ev.action, 'updated');
    assert.deepEqual(ev.sessionContext, { hasSession: true, sessionType: 'standard' });
    assert.ok(ev.timestamp);
    assert.ok(await a.expectNone((m) => m.type === 'entity_event'), 'sender excluded');
    assert.ok(await outsider.expectNone((m) => m.type === 'entity_event', 50), 'non-members excluded');
    outsider.send({ type: 'entity_event', entityType: 'resource', entityId: 42, action: 'forged' });
    assert.equal((await outsider.ofType('error')).code, 'ROOM_ACCESS_DENIED', 'a non-member may not send into the room');
    assert.ok(await b.expectNone((m) => m.action === 'forged', 100), 'nothing relayed from a non-member');
    b.send({ type: 'unsubscribe', entityType: 'resource', entityId: '42' });
    assert.equal((await b.ofType('subscription_confirmation')).status, 'unsubscribed');
    a.send({ type: 'subscribe', entityType: 'bad type!', entityId: 1 });
    assert.equal((await a.ofType('error')).code, 'INVALID_MESSAGE');
  });

  test('room_message: members relay to other members, non-members are refused', async () => {
    const a = await connect();
    const b = await connect();
    const c = await connect();
    for (const x of [a, b]) {
      x.send({ type: 'subscribe', entityType: 'building', entityId: 7 });
      await x.ofType('subscription_confirmation');
    }
    a.send({ type: 'room_message', roomId: 'entity_building_7', body: 'hi room' });
    const got = await b.next((m) => m.type === 'room_message');
    assert.equal(got.body, 'hi room');
    assert.equal(got.sessionContext, undefined, 'no sessionContext without a session');
    c.send({ type: 'room_message', roomId: 'entity_building_7', body: 'intruder' });
    const err = await c.ofType('error');
    assert.deepEqual([err.code, err.message], ['ROOM_ACCESS_DENIED', 'Not authorized to send to this room']);
    assert.ok(await b.expectNone((m) => m.body === 'intruder'));
  });

  test('chat goes to all others, notification to all including sender, unknown to others; marked as client', async () => {
    const a = await connect('bookingfrontendsession=chatSess1');
    const b = await connect();
    a.send({ type: 'chat', message: 'hello' });
    const chat = await b.next((m) => m.type === 'chat' && m.message === 'hello');
    assert.equal(chat.source, 'client');
    assert.deepEqual(chat.sessionContext, { hasSession: true, sessionType: 'booking' });
    a.send({ type: 'notification', message: 'to everyone' });
    await a.next((m) => m.type === 'notification' && m.message === 'to everyone');
    await b.next((m) => m.type === 'notification' && m.message === 'to everyone');
    a.send({ type: 'whatever_custom', message: 'x', timestamp: 'keep-me' });
    const custom = await b.next((m) => m.type === 'whatever_custom');
    assert.equal(custom.timestamp, 'keep-me', 'existing timestamp kept');
    a.send({ message: 'no type at all' });
    await b.next((m) => m.message === 'no type at all');
    assert.ok(await a.expectNone((m) => m.type === 'chat' || m.type === 'whatever_custom' || m.message === 'no type at all'));
  });

  test('get_partial_applications without a session → No session found; without a database → Database not connected', async () => {
    const a = await connect();
    a.send({ type: 'get_partial_applications' });
    const r1 = await a.ofType('partial_applications_response');
    assert.deepEqual(r1.data, { error: true, status: 'error', message: 'No session found' });
    const b = await connect('PHPSESSID=partialSess1');
    b.send({ type: 'get_partial_applications' });
    const r2 = await b.ofType('partial_applications_response');
    assert.deepEqual(r2.data, { error: true, status: 'error', message: 'Database not connected' });
  });
});

describe('health', () => {
  test('GET /health reports ok, clients, redis and database disabled', async () => {
    const res = await fetch(`${shared.gw.httpUrl}/health`);
    assert.equal(res.status, 200);
    const body = await res.json() as Record<string, unknown>;
    assert.equal(body.status, 'ok');
    assert.equal(body.redis, 'disabled');
    assert.equal(body.database, 'disabled');
    assert.equal(body.clients, shared.gw.gateway.connections.size);
    assert.equal(typeof body.uptime, 'number');
    const missing = await fetch(`${shared.gw.httpUrl}/nope`);
    assert.equal(missing.status, 404);
  });
});
