/** The browser client's stream positions and recovery after a reconnect (docs/protocol.md, "Recovery"), against the fake browser. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WebSocketClient } from '../../src/client/client.js';
import type { ClientOptions } from '../../src/client/options.js';
import { FakeEnv, type Frame } from './client-fake-env.js';

const SESSION_ROOM = 'session_0123456789';

function connected(options: ClientOptions = {}): { env: FakeEnv; client: WebSocketClient } {
  const env = new FakeEnv();
  const client = new WebSocketClient(env, null, { backoff: { baseMs: 100, jitter: 0 }, detectUserId: false, ...options });
  env.socket.accept();
  env.socket.receive({ type: 'connection_success', roomId: SESSION_ROOM });
  return { env, client };
}

/** A stream message as the server sends it. */
const msg = (stream: string, offset: number, epoch = 'e1', type = 'notification'): Frame =>
  ({ type, message: `${stream}#${offset}`, stream_position: { stream, offset, epoch } });

/** Drop the connection and let the backoff timer open the next one (accepted, no greeting yet). */
function reconnect(env: FakeEnv): void {
  env.socket.end();
  env.advance(env.delays.at(-1)!);
  env.socket.accept();
}

const shown = (env: FakeEnv): unknown[] => (env.named('portico:notification') as Frame[]).map((d) => d.message);
const lastRecover = (env: FakeEnv): Frame => env.socket.sent.filter((f) => f.type === 'recover').at(-1)!;

test('remembers the last position per stream and drops duplicates; a new epoch starts over', () => {
  const { env, client } = connected();
  const received: unknown[] = [];
  client.on('receive', (m) => received.push(m.message));
  env.socket.receive(msg('broadcast', 1));
  env.socket.receive(msg('broadcast', 2));
  env.socket.receive(msg('broadcast', 2));
  env.socket.receive(msg('broadcast', 1));
  env.socket.receive(msg(SESSION_ROOM, 7));
  env.socket.receive(msg('broadcast', 1, 'e2'));
  env.socket.receive({ type: 'notification', message: 'no position' });
  assert.deepEqual(shown(env), ['broadcast#1', 'broadcast#2', `${SESSION_ROOM}#7`, 'broadcast#1', 'no position']);
  assert.deepEqual(received, shown(env), 'duplicates do not reach the hooks either');
  assert.deepEqual(client.getStreamPositions(), { broadcast: { offset: 1, epoch: 'e2' }, [SESSION_ROOM]: { offset: 7, epoch: 'e1' } });
  // A gap is not a loss while connected (the sender of a relayed message does not get its own copy).
  env.socket.receive(msg('broadcast', 5, 'e2'));
  assert.equal(shown(env).at(-1), 'broadcast#5');
});

test('the first connection sends no recover; every reconnect sends it after update_session, subscribes and user info', () => {
  const { env, client } = connected();
  client.subscribe('resource', 42);
  assert.equal(env.socket.sent.some((f) => f.type === 'recover'), false);
  env.socket.receive(msg('broadcast', 3));
  env.socket.receive(msg(SESSION_ROOM, 9));
  env.socket.receive(msg('entity_resource_42', 4, 'x'));
  client.updateUserInfo(12);

  reconnect(env);
  assert.deepEqual(env.socket.sent.map((f) => f.type), ['subscribe', 'update_user_info', 'recover']);
  assert.deepEqual(lastRecover(env), {
    type: 'recover',
    streams: { broadcast: { offset: 3, epoch: 'e1' }, [SESSION_ROOM]: { offset: 9, epoch: 'e1' }, entity_resource_42: { offset: 4, epoch: 'x' } },
  });

  client.updateSession('pageSession');
  env.socket.receive({ type: 'recovery_result', recovered: true, missed: 0, streams: {} });
  reconnect(env);
  assert.deepEqual(env.socket.sent.map((f) => f.type), ['update_session', 'subscribe', 'update_user_info', 'recover']);
});

test('streams the connection is no longer in are not asked for: unsubscribed entity rooms, a previous session room', () => {
  const { env, client } = connected();
  client.subscribe('resource', 1);
  client.subscribe('resource', 2);
  env.socket.receive(msg('entity_resource_1', 1));
  env.socket.receive(msg('entity_resource_2', 1));
  env.socket.receive(msg(SESSION_ROOM, 1));
  client.unsubscribe('resource', 2);
  assert.equal('entity_resource_2' in client.getStreamPositions(), false, 'forgotten on unsubscribe');
  client.updateSession('anotherSession');

  reconnect(env);
  assert.deepEqual(Object.keys(lastRecover(env).streams), ['entity_resource_1'], 'the new session room is not known yet');
  env.socket.receive({ type: 'connection_success', roomId: SESSION_ROOM }); // the cookie's room: the page-set session wins
  env.socket.receive({ type: 'session_update_confirmation', success: true, action: 'updated', roomId: 'session_abcdefabcd' });
  env.socket.receive({ type: 'recovery_result', recovered: true, missed: 0, streams: {} });
  env.socket.receive(msg('session_abcdefabcd', 5));

  reconnect(env);
  assert.deepEqual(Object.keys(lastRecover(env).streams).sort(), ['entity_resource_1', 'session_abcdefabcd']);
});

test('recovered: missed and overtaking live messages are dispatched once, in offset order, before portico:recovered', () => {
  const { env, client } = connected();
  env.socket.receive(msg('broadcast', 5));
  env.socket.receive(msg(SESSION_ROOM, 1));
  reconnect(env);
  const order: string[] = [];
  client.on('notification', (d) => order.push(String(d.message)));
  client.on('recovered', (d) => order.push(`recovered:${d.recovered}:${d.missed}`));

  env.socket.receive({ type: 'connection_success', roomId: SESSION_ROOM });
  env.socket.receive(msg('broadcast', 8)); // live, before the server handled recover
  env.socket.receive(msg(SESSION_ROOM, 2));
  env.socket.receive(msg('broadcast', 6)); // missed, from history
  env.socket.receive(msg('broadcast', 7));
  env.socket.receive(msg('broadcast', 8)); // history's copy of the live one
  env.socket.receive(msg('broadcast', 9)); // live after the read
  env.socket.receive(msg('entity_x_1', 1)); // not being recovered: at once
  assert.deepEqual(order, ['entity_x_1#1'], 'recovering streams are held until the result');
  env.socket.receive({
    type: 'recovery_result', recovered: true, missed: 4,
    streams: { broadcast: { recovered: true, missed: 3, offset: 9, epoch: 'e1' }, [SESSION_ROOM]: { recovered: true, missed: 1, offset: 2, epoch: 'e1' } },
  });
  assert.deepEqual(order, ['entity_x_1#1', 'broadcast#6', `${SESSION_ROOM}#2`, 'broadcast#7', 'broadcast#8', 'broadcast#9', 'recovered:true:4']);
  assert.deepEqual(env.named('portico:recovered'), [{ recovered: true, missed: 4 }]);
  assert.equal(env.named('portico:resync').length, 0);
  assert.equal(env.named('portico:message').some((m) => (m as Frame).type === 'recovery_result'), false);
  env.socket.receive(msg('broadcast', 9));
  env.socket.receive(msg('broadcast', 10));
  assert.equal(order.at(-1), 'broadcast#10', 'live again, duplicates still dropped');
  assert.equal(order.filter((o) => o === 'broadcast#9').length, 1);
  assert.equal(env.activeTimers, 1, 'only the ping interval: the recover deadline was cleared');
});

test('not recovered: portico:recovered false then portico:resync; positions move to the new epoch, non-member streams are forgotten', () => {
  const { env, client } = connected();
  client.subscribe('resource', 3);
  env.socket.receive(msg('broadcast', 5));
  env.socket.receive(msg('entity_resource_3', 2));
  reconnect(env);
  env.socket.receive(msg('broadcast', 1, 'e2')); // live in the new epoch, raced the recover
  env.socket.receive({
    type: 'recovery_result', recovered: false, missed: 0,
    streams: {
      broadcast: { recovered: false, missed: 0, reason: 'epoch_changed', offset: 1, epoch: 'e2' },
      entity_resource_3: { recovered: false, missed: 0, reason: 'not_member', offset: 0, epoch: 'z' },
    },
  });
  assert.deepEqual(env.named('portico:recovered'), [{ recovered: false, missed: 0 }]);
  assert.deepEqual(env.named('portico:resync'), [{ recovered: false, missed: 0, streams: ['broadcast', 'entity_resource_3'] }]);
  assert.deepEqual(shown(env), ['broadcast#5', 'entity_resource_3#2', 'broadcast#1'], 'the live message is still shown');
  assert.deepEqual(client.getStreamPositions(), { broadcast: { offset: 1, epoch: 'e2' } });
  env.socket.receive(msg('broadcast', 1, 'e2'));
  env.socket.receive(msg('broadcast', 2, 'e2'));
  assert.deepEqual(shown(env).slice(3), ['broadcast#2']);

  reconnect(env);
  assert.deepEqual(lastRecover(env).streams, { broadcast: { offset: 2, epoch: 'e2' } });
});

test('a window that passed: the top the server reports becomes the base, a live message below it is still shown', () => {
  const { env, client } = connected();
  env.socket.receive(msg('broadcast', 5));
  reconnect(env);
  env.socket.receive({
    type: 'recovery_result', recovered: false, missed: 0,
    streams: { broadcast: { recovered: false, missed: 0, reason: 'window_passed', offset: 400, epoch: 'e1' } },
  });
  assert.deepEqual(env.named('portico:resync'), [{ recovered: false, missed: 0, streams: ['broadcast'] }]);
  assert.deepEqual(client.getStreamPositions(), { broadcast: { offset: 400, epoch: 'e1' } });
  env.socket.receive(msg('broadcast', 400)); // written before the read, arriving after the answer
  env.socket.receive(msg('broadcast', 401));
  env.socket.receive(msg('broadcast', 401));
  assert.deepEqual(shown(env), ['broadcast#5', 'broadcast#400', 'broadcast#401']);
});

test('no answer within recoverTimeoutMs: held messages are released and the page is told to resync', () => {
  const { env } = connected({ recoverTimeoutMs: 2000 });
  env.socket.receive(msg('broadcast', 1));
  reconnect(env);
  env.socket.receive(msg('broadcast', 3));
  env.socket.receive(msg('broadcast', 2));
  env.advance(1999);
  assert.equal(env.named('portico:recovered').length, 0);
  env.advance(1);
  assert.deepEqual(shown(env), ['broadcast#1', 'broadcast#2', 'broadcast#3']);
  assert.deepEqual(env.named('portico:recovered'), [{ recovered: false, missed: 0 }]);
  assert.deepEqual(env.named('portico:resync'), [{ recovered: false, missed: 0, streams: ['broadcast'] }]);
  env.socket.receive({ type: 'recovery_result', recovered: true, missed: 0, streams: {} });
  assert.equal(env.named('portico:recovered').length, 1, 'a late answer is ignored');
});

test('a connection lost before the answer drops what it held; the next reconnect asks again from the same positions', () => {
  const { env, client } = connected();
  env.socket.receive(msg('broadcast', 4));
  reconnect(env);
  env.socket.receive(msg('broadcast', 5));
  reconnect(env);
  assert.deepEqual(lastRecover(env).streams, { broadcast: { offset: 4, epoch: 'e1' } });
  assert.equal(env.named('portico:recovered').length, 0);
  env.socket.receive(msg('broadcast', 5));
  env.socket.receive({ type: 'recovery_result', recovered: true, missed: 1, streams: { broadcast: { recovered: true, missed: 1, offset: 5, epoch: 'e1' } } });
  assert.deepEqual(shown(env), ['broadcast#4', 'broadcast#5']);
  assert.deepEqual(env.named('portico:recovered'), [{ recovered: true, missed: 1 }]);

  reconnect(env);
  client.close();
  assert.equal(env.activeTimers, 0, 'close() clears the recover deadline');
});

test('stream_positions in a reply seed streams not seen yet; a seeded position never drops a live message', () => {
  const { env, client } = connected();
  env.socket.receive(msg('broadcast', 2));
  env.socket.receive({ type: 'subscription_confirmation', roomId: 'entity_r_1', stream_positions: { entity_r_1: { offset: 10, epoch: 'q' }, broadcast: { offset: 9, epoch: 'e1' } } });
  assert.deepEqual(client.getStreamPositions(), { broadcast: { offset: 2, epoch: 'e1' }, entity_r_1: { offset: 10, epoch: 'q' } });
  client.subscribe('r', 1);
  env.socket.receive(msg('entity_r_1', 10, 'q'));
  assert.deepEqual(shown(env), ['broadcast#2', 'entity_r_1#10']);
  env.socket.receive(msg('entity_r_1', 10, 'q'));
  assert.equal(shown(env).length, 2, 'once shown, it is a duplicate');
  env.socket.receive({ type: 'notification', stream_position: { stream: 'broadcast', offset: -1, epoch: 'e1' }, message: 'bad position' });
  assert.equal(shown(env).at(-1), 'bad position', 'a malformed position is ignored, the message delivered');
});

test('after updateSession the new session room is learned from the stream_positions of the confirmation, and recovered', () => {
  const { env, client } = connected();
  env.socket.receive(msg(SESSION_ROOM, 3));
  client.updateSession('anotherSession');
  env.socket.receive({
    type: 'session_update_confirmation', success: true, action: 'updated',
    stream_positions: { session_fedcbafedc: { offset: 7, epoch: 's2' }, user_abc: { offset: 2, epoch: 'u' } },
  });
  reconnect(env);
  assert.deepEqual(lastRecover(env).streams, { session_fedcbafedc: { offset: 7, epoch: 's2' }, user_abc: { offset: 2, epoch: 'u' } });
});

test('a recovery_result relayed from another client does not end the recovery', () => {
  const { env } = connected();
  env.socket.receive(msg('broadcast', 1));
  reconnect(env);
  env.socket.receive({ type: 'recovery_result', recovered: true, missed: 0, streams: {}, source: 'client' });
  assert.equal(env.named('portico:recovered').length, 0);
  env.socket.receive(msg('broadcast', 2));
  env.socket.receive({ type: 'recovery_result', recovered: true, missed: 1, streams: { broadcast: { recovered: true, missed: 1, offset: 2, epoch: 'e1' } } });
  assert.deepEqual(env.named('portico:recovered'), [{ recovered: true, missed: 1 }]);
  assert.deepEqual(shown(env), ['broadcast#1', 'broadcast#2']);
});
