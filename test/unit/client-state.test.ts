/** The browser client's state machine, run in Node against a fake browser at its environment seam. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WebSocketClient } from '../../src/client/client.js';
import type { ClientOptions } from '../../src/client/options.js';
import { FakeEnv, type Frame } from './client-fake-env.js';

function connected(options: ClientOptions = {}, url?: string): { env: FakeEnv; client: WebSocketClient } {
  const env = new FakeEnv();
  const client = new WebSocketClient(env, url, options);
  env.socket.accept();
  env.socket.receive({ type: 'connection_success', message: 'Successfully connected to WebSocket server', roomId: 'session_0123456789', timestamp: 't' });
  return { env, client };
}

const types = (frames: Frame[]) => frames.map((f) => f.type);

test('connects to ws(s)://<host>/wss unless given a URL, and moves connecting -> open', () => {
  const env = new FakeEnv();
  const client = new WebSocketClient(env);
  assert.equal(env.socket.url, 'ws://page.example/wss');
  assert.equal(client.getStatus(), 'CONNECTING');
  assert.equal(env.status?.text, 'Connecting…');
  env.socket.accept();
  assert.equal(client.getStatus(), 'OPEN');
  assert.deepEqual(env.status, { text: 'Connected', state: 'connected', color: 'green' });
  assert.equal(new WebSocketClient(new FakeEnv(), 'ws://other:8080').url, 'ws://other:8080');
});

test('connection_success fires portico:connected once with the message as detail', () => {
  const { env } = connected();
  assert.deepEqual(env.named('portico:connected'), [
    { type: 'connection_success', message: 'Successfully connected to WebSocket server', roomId: 'session_0123456789', timestamp: 't' },
  ]);
});

test('incoming types map to the original events and details', () => {
  const { env } = connected();
  env.socket.receive({ type: 'notification', message: 'n' });
  env.socket.receive({ type: 'chat', message: 'c', source: 'client' });
  env.socket.receive({ type: 'user_info_update_confirmation', success: true, message: 'x', userId: 7 });
  env.socket.receive({ type: 'subscription_confirmation', entityType: 'resource', entityId: 1, status: 'subscribed' });
  env.socket.receive({ type: 'pong', reply_to: null });
  env.socket.receive('not json');
  env.socket.receive({ type: 'partial_applications_response', data: { error: false, status: 'success', applications: [], count: 0, sessionId: 'abcdefgh...', source: 'server_push' } });
  env.socket.receive({ type: 'partial_applications_response', data: { error: true, status: 'error', message: 'm', requiresUserInfo: true } });

  assert.deepEqual(env.named('portico:notification'), [{ type: 'notification', message: 'n' }]);
  assert.deepEqual(env.named('portico:chat'), [{ type: 'chat', message: 'c', source: 'client' }]);
  assert.deepEqual(env.named('portico:user_info_updated'), [{ userId: 7, success: true }]);
  assert.deepEqual(env.named('portico:raw'), ['not json']);
  assert.deepEqual(env.named('portico:requires_user_info'), [{ requestType: 'partial_applications' }]);
  assert.deepEqual(env.named('portico:partial_applications'), [
    { error: false, status: 'success', applications: [], count: 0, sessionId: 'abcdefgh...', source: 'server_push', isServerPush: true },
    { error: true, status: 'error', message: 'm', requiresUserInfo: true, isServerPush: false },
  ]);
  // portico:message: every other type, and only the client-requested partial applications response.
  assert.deepEqual(types(env.named('portico:message') as Frame[]), ['subscription_confirmation', 'partial_applications_response']);
  assert.equal(env.events.filter((e) => JSON.stringify(e.detail ?? '').includes('"pong"')).length, 0);
});

test('server_ping is answered with pong (reply_to = its id) and room_ping with room_ping_response', () => {
  const { env } = connected();
  env.socket.receive({ type: 'server_ping', id: 'ping_1' });
  env.socket.receive({ type: 'room_ping', roomId: 'entity_resource_42', pingId: 'rping_9' });
  const sent = env.socket.sent.filter((f) => f.type === 'pong' || f.type === 'room_ping_response');
  assert.equal(sent[0]?.type, 'pong');
  assert.equal(sent[0]?.reply_to, 'ping_1');
  assert.deepEqual({ ...sent[1], timestamp: undefined }, { type: 'room_ping_response', roomId: 'entity_resource_42', pingId: 'rping_9', timestamp: undefined });
  // server_ping was never a page event; room_ping still reaches portico:message as it always did.
  assert.deepEqual(types(env.named('portico:message') as Frame[]), ['room_ping']);
});

test('sendMessage sends {type, message, ...additionalData, timestamp} and fires portico:sent; false when not connected', () => {
  const env = new FakeEnv();
  const client = new WebSocketClient(env);
  assert.equal(client.sendMessage('chat', 'early'), false);
  assert.equal(env.named('portico:sent').length, 0);
  env.socket.accept();
  assert.equal(client.sendMessage('notification', 'Alert!', { priority: 'high' }), true);
  const frame = env.socket.sent.find((f) => f.type === 'notification')!;
  assert.deepEqual(Object.keys(frame), ['type', 'message', 'priority', 'timestamp']);
  assert.equal(frame.priority, 'high');
  assert.match(frame.timestamp, /^\d{4}-\d\d-\d\dT/);
  assert.deepEqual(env.named('portico:sent'), [frame]);
});

test('sends ping every 30 s while open, and nothing once closed', () => {
  const { env, client } = connected();
  env.advance(30_000);
  env.advance(30_000);
  assert.equal(env.socket.sent.filter((f) => f.type === 'ping').length, 2);
  client.close();
  assert.equal(env.activeTimers, 0);
});

test('getPartialApplications resolves with the response data, and rejects when not connected, on timeout and on disconnect', async () => {
  const { env, client } = connected({ reconnect: false });
  const answered = client.getPartialApplications();
  assert.equal(env.socket.sent.at(-1)?.type, 'get_partial_applications');
  const data = { error: true, status: 'error', message: 'Database not connected' };
  env.socket.receive({ type: 'partial_applications_response', data });
  assert.deepEqual(await answered, data);

  const timedOut = client.getPartialApplications();
  env.advance(10_000);
  await assert.rejects(timedOut, /Timeout/);

  const dropped = client.getPartialApplications();
  env.socket.end();
  await assert.rejects(dropped, /closed/);
  await assert.rejects(client.getPartialApplications(), /not connected/);
  assert.equal(env.activeTimers, 0);
});

test('a lost connection reconnects with growing, capped delays and restores session, subscriptions and user id', () => {
  const { env, client } = connected({ backoff: { baseMs: 100, maxMs: 400, jitter: 0 }, userIdDelayMs: 1000 });
  client.updateSession('sess-B');
  client.updateUserInfo(42);
  client.subscribe('resource', 42);
  client.subscribe('building', 7);
  client.unsubscribe('building', 7);

  const delays: number[] = [];
  env.socket.end(1001, 'Server shutting down', true);
  assert.deepEqual(env.named('portico:disconnected'), [{ code: 1001, reason: 'Server shutting down', wasClean: true, willReconnect: true }]);
  assert.equal(client.getState(), 'reconnecting');
  assert.equal(client.getStatus(), 'CONNECTING');
  assert.equal(env.status?.text, 'Reconnecting…');
  for (let i = 0; i < 4; i++) {
    delays.push(env.delays.at(-1)!);
    env.advance(env.delays.at(-1)!);
    env.socket.end(); // the server is still down
  }
  assert.deepEqual(delays, [100, 200, 400, 400]);
  assert.equal(env.named('portico:reconnecting').length, 4);
  assert.deepEqual(env.named('portico:reconnecting'), [null, null, null, null]);
  assert.equal(env.named('portico:disconnected').length, 1, 'failed attempts are not new disconnections');

  env.advance(env.delays.at(-1)!);
  const socket = env.socket;
  socket.accept();
  assert.deepEqual(socket.sent.map((f) => [f.type, f.sessionId ?? f.entityType ?? f.userId]), [
    ['update_session', 'sess-B'], ['subscribe', 'resource'], ['update_user_info', 42], ['recover', undefined],
  ]);
  socket.receive({ type: 'connection_success', roomId: null });
  assert.equal(env.named('portico:connected').length, 2);
  assert.equal(client.sendMessage('chat', 'same object'), true, 'the one client object keeps working');

  // A successful connection resets the backoff.
  socket.end();
  assert.equal(env.delays.at(-1), 100);
});

test('coming back online reconnects at once instead of waiting out the backoff', () => {
  const { env, client } = connected({ backoff: { baseMs: 10_000, jitter: 0 } });
  env.socket.end();
  const before = env.sockets.length;
  env.goOnline();
  assert.equal(env.sockets.length, before + 1);
  assert.equal(client.getState(), 'connecting');
  assert.equal(env.activeTimers, 0, 'the backoff timer was cancelled');
  env.goOnline(); // already connecting: nothing more
  assert.equal(env.sockets.length, before + 1);
});

test('close() stops for good: no reconnect, no timers, no online listener, portico:disconnected without reconnect', () => {
  const { env, client } = connected();
  void client.getPartialApplications().catch(() => {});
  client.close();
  assert.equal(client.getStatus(), 'CLOSING');
  assert.deepEqual(env.socket.closeCall, { code: 1000, reason: 'Client closed' });
  env.socket.end(1000, 'Client closed', true);
  assert.equal(client.getStatus(), 'CLOSED');
  assert.equal(env.status?.text, 'Disconnected');
  assert.deepEqual(env.named('portico:disconnected'), [{ code: 1000, reason: 'Client closed', wasClean: true, willReconnect: false }]);
  assert.equal(env.activeTimers, 0);
  assert.equal(env.onlineListenerCount, 0);
  const sockets = env.sockets.length;
  env.advance(10 * 60_000);
  env.goOnline();
  assert.equal(env.sockets.length, sockets, 'no reconnect after close()');
});

test('close() while waiting to reconnect clears the backoff timer; connect() starts again', () => {
  const { env, client } = connected();
  env.socket.end();
  assert.equal(env.activeTimers, 1);
  client.close();
  assert.equal(client.getStatus(), 'CLOSED');
  assert.equal(env.activeTimers, 0);
  assert.equal(env.named('portico:disconnected').length, 2);
  client.connect();
  assert.equal(client.getStatus(), 'CONNECTING');
  env.socket.accept();
  assert.equal(client.getStatus(), 'OPEN');
});

test('the page user id is looked up 1 s after connecting unless the page set one', () => {
  const env = new FakeEnv();
  env.userIdOnPage = '77';
  new WebSocketClient(env);
  env.socket.accept();
  assert.equal(env.socket.sent.length, 0);
  env.advance(999);
  assert.equal(env.socket.sent.length, 0);
  env.advance(1);
  assert.deepEqual(env.socket.sent.map((f) => [f.type, f.userId]), [['update_user_info', '77']]);

  const explicit = connected();
  explicit.env.userIdOnPage = '77';
  explicit.client.updateUserInfo(5);
  explicit.env.advance(5000);
  assert.deepEqual(explicit.env.socket.sent.filter((f) => f.type === 'update_user_info').map((f) => f.userId), [5]);
});

test('on() listens with or without the portico: prefix and returns its remover; hooks see every frame', () => {
  const { env, client } = connected();
  const chats: unknown[] = [];
  const received: string[] = [];
  const off = client.on('portico:chat', (d) => chats.push(d.message));
  client.on('receive', (m) => received.push(String(m.type)));
  client.on('chat', () => { throw new Error('a faulty handler does not break others'); });
  env.socket.receive({ type: 'chat', message: 1 });
  off();
  env.socket.receive({ type: 'chat', message: 2 });
  env.socket.receive({ type: 'server_ping', id: 'p' });
  assert.deepEqual(chats, [1]);
  assert.deepEqual(received, ['chat', 'chat', 'server_ping']);
  assert.equal(env.events.some((e) => e.type === 'portico:receive'), false, 'hooks are not window events');
});

test('the console stays quiet unless debug is on', () => {
  const quiet = connected();
  quiet.env.socket.receive('x');
  quiet.client.close();
  assert.equal(quiet.env.logs.length, 0);
  const loud = connected({ debug: true });
  loud.env.socket.receive('x');
  assert.ok(loud.env.logs.length > 0);
});

test('server message types relayed from another client (source "client") are not acted on', () => {
  const { env } = connected();
  const before = env.events.length;
  const sentBefore = env.socket.sent.length;
  env.socket.receive({ type: 'partial_applications_response', source: 'client', data: { error: false, status: 'success', applications: [{ id: 1 }], count: 1, sessionId: 'x', source: 'server_push' } });
  env.socket.receive({ type: 'connection_success', source: 'client', roomId: null });
  env.socket.receive({ type: 'server_ping', source: 'client', id: 'forged' });
  env.socket.receive({ type: 'user_info_update_confirmation', source: 'client', success: true, userId: 1 });
  env.socket.receive({ type: 'notification_event', source: 'client', eventType: 'new' });
  const fired = env.events.slice(before).map((e) => e.type);
  assert.deepEqual(fired, [], 'no portico:* event for a forged server message');
  assert.equal(env.socket.sent.length, sentBefore, 'no pong for a forged server_ping');
  // A client's own kinds of message are still delivered.
  env.socket.receive({ type: 'notification', source: 'client', message: 'from a peer' });
  assert.deepEqual(env.named('portico:notification'), [{ type: 'notification', source: 'client', message: 'from a peer' }]);
});
