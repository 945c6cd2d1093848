/**
 * Identity end to end: two gateways on a real Redis, a real HTTP server standing in for
 * PorticoEstate's /bookingfrontend/user, and clients of several users on both instances.
 * "Reached nobody else" is shown without sleeping: after the user-targeted message a broadcast
 * marker follows the same path, and per-instance order means whoever has the marker would have
 * had the message before it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { createPublisher } from '../../src/publisher/index.js';
import { createMetrics } from '../../src/server/metrics.js';
import { sessionRoomId } from '../../src/server/session.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { TEST_AUTH_SECRET, TEST_USER_ROOM_KEY, mintToken, startPorticoAuthServer, type PorticoAuthServer } from '../helpers/portico-auth.js';
import { health, rawPublisher, startRedisGateway, waitFor, type RedisTestGateway } from '../helpers/redis-gateway.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { TestClient, type Msg } from '../helpers/ws-client.js';

const TOKEN = 'user-rooms-publish-token';
const SSN_X = '01017012345';
const SSN_Y = '02028054321';
const SSN_Z = '03039098765';

let server: RedisServer;
let portico: PorticoAuthServer;
let A: RedisTestGateway;
let B: RedisTestGateway;
let php: Redis;
const clients: TestClient[] = [];

const auth = () => ({ url: portico.userUrl, userRoomKey: TEST_USER_ROOM_KEY, secret: TEST_AUTH_SECRET, retryMs: 200, timeoutMs: 500, cacheMs: 60_000 });

async function connect(gw: TestGateway, opts: { session?: string; query?: string } = {}): Promise<TestClient> {
  const c = await TestClient.connect(gw.url + (opts.query ?? ''), { cookie: opts.session ? `other=1; bookingfrontendsession=${opts.session}` : undefined });
  clients.push(c);
  return c;
}

function post(gw: TestGateway, channel: string, payload: unknown): Promise<Response> {
  return fetch(`${gw.httpUrl}/publish`, {
    method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ channel, payload }),
  });
}

let seq = 0;
const userMessage = (userType: string, identifier: string | number, text: string) =>
  ({ type: 'notification_event', eventType: 'new', target: 'user', userType, identifier, notification: { id: ++seq, message: text } });

/** Every client in `all` but not in `recipients` sees `marker` without having seen `text` before it; recipients saw `text` once. */
async function expectOnly(recipients: TestClient[], all: TestClient[], text: string, marker: string): Promise<void> {
  for (const c of all) {
    await c.next((m) => m.message === marker, 10_000);
    const got = c.raw.filter((r) => r.includes(text)).length;
    assert.equal(got, recipients.includes(c) ? 1 : 0, `${text}: ${recipients.includes(c) ? 'recipient' : 'bystander'} got it ${got} times`);
  }
}

/** The verified bb_user identity of the connection with this session on `gw`. */
function identityOf(gw: TestGateway, sessionId: string): string | undefined {
  for (const conn of gw.gateway.connections) if (conn.sessionId === sessionId) return conn.identities.bb_user;
  return undefined;
}

const hasText = (text: string) => (m: Msg) => m.notification?.message === text;

before(async () => {
  server = await startRedisServer();
  portico = await startPorticoAuthServer();
  portico.login('sessX1aaaa', { ssn: SSN_X });
  portico.login('sessX2bbbb', { ssn: SSN_X }); // the same person on a second device
  portico.login('sessY1cccc', { ssn: SSN_Y, account_id: 7 });
  A = await startRedisGateway(server, { auth: auth(), publish: { token: TOKEN } });
  B = await startRedisGateway(server, { auth: auth(), publish: { token: TOKEN } });
  php = rawPublisher(server);
});
after(async () => {
  for (const c of clients) c.close();
  php.disconnect();
  await A?.close();
  await B?.close();
  await portico?.close();
  await server?.stop();
});

describe('user rooms across two instances', () => {
  let x1: TestClient; let x2: TestClient; let y1: TestClient; let anon: TestClient; let none: TestClient;
  let all: TestClient[];
  before(async () => {
    x1 = await connect(A, { session: 'sessX1aaaa' });
    x2 = await connect(B, { session: 'sessX2bbbb' });
    y1 = await connect(A, { session: 'sessY1cccc' });
    anon = await connect(B, { session: 'sessAnon111' });
    none = await connect(B);
    all = [x1, x2, y1, anon, none];
  });

  test('Redis notifications, POST /publish, a spool file and the publisher library reach exactly that user', async () => {
    await php.publish('notifications', JSON.stringify(userMessage('bb_user', SSN_X, 'via redis')));
    await php.publish('notifications', JSON.stringify({ type: 'notification', message: 'marker-1' }));
    await expectOnly([x1, x2], all, 'via redis', 'marker-1');

    assert.equal((await post(B, 'notifications', userMessage('bb_user', SSN_X, 'via http'))).status, 202);
    assert.equal((await post(B, 'notifications', { type: 'notification', message: 'marker-2' })).status, 202);
    await expectOnly([x1, x2], all, 'via http', 'marker-2');

    const file = (name: string, payload: unknown) => {
      const tmp = path.join(A.spoolDir, `.writing-${name}`);
      fs.writeFileSync(tmp, JSON.stringify(payload));
      fs.renameSync(tmp, path.join(A.spoolDir, name));
    };
    file('websocket_notification_1700000000.100000.json', userMessage('bb_user', SSN_Y, 'via spool'));
    await y1.next(hasText('via spool'), 10_000);
    file('websocket_notification_1700000000.200000.json', { type: 'notification', message: 'marker-3' });
    await expectOnly([y1], all, 'via spool', 'marker-3');

    const publisher = createPublisher({ redis: server.url, spoolDir: false });
    try {
      const result = await publisher.sendToUserRoom('phpgw_accounts', 7, { type: 'notification_event', notification: { message: 'via publisher' } });
      assert.equal(result.path, 'redis');
      await publisher.sendWebSocketNotification('marker-4');
    } finally {
      await publisher.close();
    }
    await expectOnly([y1], all, 'via publisher', 'marker-4');
  });

  test('the identifier travels neither between instances nor to the browser', async () => {
    const spy = new Redis(server.port, '127.0.0.1');
    const seen: string[] = [];
    await spy.subscribe('portico-ws:bus');
    spy.on('message', (_channel, text: string) => seen.push(text));
    try {
      assert.equal((await post(A, 'notifications', userMessage('bb_user', SSN_X, 'no ssn on the wire'))).status, 202);
      const got = await x2.next(hasText('no ssn on the wire'), 10_000);
      assert.equal(got.identifier, undefined);
      assert.equal(got.userType, 'bb_user');
      await waitFor(() => seen.some((t) => t.includes('no ssn on the wire')), 'the envelope on the bus');
      assert.ok(!seen.some((t) => t.includes(SSN_X)), 'no envelope carries the SSN');
      assert.match(seen.find((t) => t.includes('no ssn on the wire'))!, /"r":"user_[0-9a-f]{32}"/);
    } finally {
      spy.disconnect();
    }
    const report = await health(A);
    assert.equal(report.rooms.user, 3, 'on A: X, and Y with two identities');
    assert.deepEqual(report.identity, { mode: 'token', state: 'up' });
    assert.ok(!JSON.stringify(A.lines).includes(SSN_X) && !JSON.stringify(B.lines).includes(SSN_X), 'no SSN in any log line');
    const started = A.lines.find((l) => l.msg === 'identity and entity-room authorization');
    assert.equal(started?.identity, 'token');
    assert.equal(started?.userRoomKey, 'WSS_USER_ROOM_KEY');
    for (const secret of [TEST_USER_ROOM_KEY, TEST_AUTH_SECRET]) assert.ok(!JSON.stringify(A.lines).includes(secret), 'keys are never logged');
  });

  test('claims in update_session and update_user_info never add identities; contradicting ones are refused', async () => {
    anon.send({ type: 'update_session', sessionId: 'sessAnon111', ssn: SSN_X, accountId: 7 });
    const confirmed = await anon.ofType('session_update_confirmation');
    assert.equal(confirmed.success, true);
    assert.equal(anon.count((m) => m.type === 'error'), 0, 'nothing verified to contradict');

    y1.send({ type: 'update_session', sessionId: 'sessY1cccc', accountId: 7, ssn: SSN_X });
    const refused = await y1.ofType('error');
    assert.equal(refused.code, 'IDENTITY_MISMATCH');
    assert.match(refused.message, /^ssn: /);
    await y1.ofType('session_update_confirmation');
    y1.send({ type: 'update_user_info', userId: 8 });
    assert.equal((await y1.ofType('error')).code, 'IDENTITY_MISMATCH');
    y1.send({ type: 'update_user_info', userId: 7 });
    assert.equal((await y1.ofType('user_info_update_confirmation')).userId, 7);

    await php.publish('notifications', JSON.stringify(userMessage('bb_user', SSN_X, 'claimed')));
    await php.publish('notifications', JSON.stringify({ type: 'notification', message: 'marker-5' }));
    await expectOnly([x1, x2], all, 'claimed', 'marker-5');
  });

  test('update_session moves the user rooms with the session', async () => {
    const mover = await connect(B);
    mover.send({ type: 'update_session', sessionId: 'sessX1aaaa' });
    await mover.ofType('session_update_confirmation');
    await php.publish('notifications', JSON.stringify(userMessage('bb_user', SSN_X, 'moved in')));
    await mover.next(hasText('moved in'), 10_000);
    mover.send({ type: 'update_session', sessionId: 'sessAnon222' });
    await mover.ofType('session_update_confirmation');
    await php.publish('notifications', JSON.stringify(userMessage('bb_user', SSN_X, 'moved out')));
    await php.publish('notifications', JSON.stringify({ type: 'notification', message: 'marker-6' }));
    await expectOnly([x1, x2], [...all, mover], 'moved out', 'marker-6');
  });
});

describe('signed identity token', () => {
  test('?token= on the upgrade: the token session and identity; a bad token gets INVALID_TOKEN and no identity', async () => {
    const good = await connect(A, { query: `?token=${await mintToken({ sid: 'tokSession1', identities: { bb_user: SSN_Z } })}` });
    const forged = await connect(B, { query: `?token=${await mintToken({ sid: 'tokSession2', identities: { bb_user: SSN_Z } }, { secret: 'wrong-secret-0123456789-abcdefghijklm' })}` });
    assert.equal((await forged.ofType('error')).code, 'INVALID_TOKEN');
    const expiredOnUpdate = await connect(B, { session: 'tokSession3' });
    expiredOnUpdate.send({ type: 'update_session', sessionId: 'tokSession3', token: await mintToken({ sid: 'tokSession3', identities: { bb_user: SSN_Z } }, { expiresInS: -30 }) });
    assert.match((await expiredOnUpdate.ofType('error')).message, /expired/);
    await expiredOnUpdate.ofType('session_update_confirmation');
    const goodOnUpdate = await connect(B);
    goodOnUpdate.send({ type: 'update_session', sessionId: 'tokSession4', token: await mintToken({ sid: 'tokSession4', identities: { bb_user: SSN_Z } }) });
    await goodOnUpdate.ofType('session_update_confirmation');
    const otherSession = await connect(A, { session: 'tokSession5', query: `?token=${await mintToken({ sid: 'tokSession1', identities: { bb_user: SSN_Z } })}` });
    assert.match((await otherSession.ofType('error')).message, /another session/);

    await php.publish('notifications', JSON.stringify(userMessage('bb_user', SSN_Z, 'token user')));
    await php.publish('notifications', JSON.stringify({ type: 'notification', message: 'marker-7' }));
    await expectOnly([good, goodOnUpdate], [good, forged, expiredOnUpdate, goodOnUpdate, otherSession], 'token user', 'marker-7');

    // The token's session is the connection's session: session messages reach it.
    await php.publish('session_messages', JSON.stringify({ type: 'session_targeted', sessionId: 'tokSession1', data: { type: 'hello', message: 'to token session' } }));
    const hello = await good.next((m) => m.message === 'to token session', 10_000);
    assert.equal(hello.roomId, sessionRoomId('tokSession1'));
  });
});

describe('identity endpoint down, slow and back', () => {
  test('connections keep working anonymously, /health and one log line say so, and identities arrive once it is back', async () => {
    portico.login('sessZdown1', { ssn: SSN_Z });
    portico.login('sessZslow1', { ssn: SSN_Z });
    await portico.down();
    const whileDown = await connect(A, { session: 'sessZdown1' });
    whileDown.send({ type: 'ping', id: 'still-served' });
    assert.equal((await whileDown.ofType('pong')).reply_to, 'still-served');
    const report = await health(A);
    assert.equal(report.identity.state, 'down');
    assert.equal(report.status, 'degraded');
    assert.equal(identityOf(A, 'sessZdown1'), undefined, 'anonymous while the endpoint is down');
    await connect(A, { session: 'sessNeverSeen1' }); // a second failure: no second log line
    await portico.up();
    portico.setDelay(1500);
    const started = Date.now();
    const whileSlow = await connect(B, { session: 'sessZslow1' });
    assert.ok(Date.now() - started < 1400, 'the upgrade waited at most about WSS_AUTH_TIMEOUT_MS');
    portico.setDelay(0);

    // Retried every WSS_AUTH_RETRY_MS (200 ms here) until the endpoint answers.
    await waitFor(() => identityOf(A, 'sessZdown1') === SSN_Z, 'the retried identity on A');
    await waitFor(() => identityOf(B, 'sessZslow1') === SSN_Z, 'the retried identity on B');
    await php.publish('notifications', JSON.stringify(userMessage('bb_user', SSN_Z, 'after the outage')));
    await whileDown.next(hasText('after the outage'), 10_000);
    await whileSlow.next(hasText('after the outage'), 10_000);
    assert.equal((await health(A)).identity.state, 'up');
    const changes = A.lines.filter((l) => /identity endpoint/.test(l.msg)).map((l) => `${l.from}->${l.to}`);
    assert.deepEqual(changes.slice(-2), ['up->down', 'down->up']);
    assert.equal(changes.filter((c) => c === 'up->down').length, 1);
  });
});

describe('session_messages refresh_bookinguser', () => {
  test('reaches the session room with message, action and timestamp (also from a notifications spool file)', async () => {
    const target = await connect(A, { session: 'sessRefresh1' });
    const bystander = await connect(B, { session: 'sessRefresh2' });
    await php.publish('session_messages', JSON.stringify({ type: 'refresh_bookinguser', sessionId: 'sessRefresh1', message: 'User data has been updated', action: 'refresh' }));
    const got = await target.ofType('refresh_bookinguser', 10_000);
    assert.deepEqual(Object.keys(got).filter((k) => k !== 'stream_position').sort(), ['action', 'message', 'timestamp', 'type']);
    assert.equal(got.message, 'User data has been updated');
    assert.equal(got.action, 'refresh');
    assert.ok(!Number.isNaN(Date.parse(got.timestamp)));
    const tmp = path.join(B.spoolDir, '.writing-refresh');
    fs.writeFileSync(tmp, JSON.stringify({ type: 'refresh_bookinguser', sessionId: 'sessRefresh1' }));
    fs.renameSync(tmp, path.join(B.spoolDir, 'websocket_notification_1700000001.000000.json'));
    const fromSpool = await target.ofType('refresh_bookinguser', 10_000);
    assert.equal(fromSpool.message, 'User data has been updated', 'the default text');
    await php.publish('notifications', JSON.stringify({ type: 'notification', message: 'marker-8' }));
    await bystander.next((m) => m.message === 'marker-8', 10_000);
    assert.equal(bystander.count((m) => m.type === 'refresh_bookinguser'), 0);
  });
});

test('without an identity source, user-targeted and unknown-target payloads reach nobody and are counted', async () => {
  const metrics = createMetrics({ processMetrics: false });
  const gw = await startTestGateway({ publish: { token: TOKEN } }, { observer: metrics });
  try {
    const c1 = await TestClient.connect(gw.url, { cookie: 'bookingfrontendsession=sessX1aaaa' });
    const c2 = await TestClient.connect(gw.url);
    assert.equal((await post(gw, 'notifications', userMessage('bb_user', SSN_X, 'nobody gets this'))).status, 202);
    assert.equal((await post(gw, 'notifications', { type: 'notification', target: 'everyone-please', message: 'unknown target' })).status, 202);
    assert.equal((await post(gw, 'notifications', { type: 'notification', target: 'entity', message: 'entity without ids' })).status, 202);
    assert.equal((await post(gw, 'notifications', { type: 'notification', message: 'marker-9' })).status, 202);
    for (const c of [c1, c2]) {
      await c.next((m) => m.message === 'marker-9');
      assert.equal(c.raw.filter((r) => /nobody gets this|unknown target|entity without ids/.test(r)).length, 0);
      c.close();
    }
    const text = (await metrics.exposition()).body;
    assert.match(text, /portico_ws_undeliverable_total\{reason="user_target_without_identity"\} 1/);
    assert.match(text, /portico_ws_undeliverable_total\{reason="unknown_target"\} 1/);
    assert.match(text, /portico_ws_undeliverable_total\{reason="incomplete_target"\} 1/);
    const report = gw.gateway.health();
    assert.deepEqual(report.identity, { mode: 'none', state: 'up' });
    assert.equal(report.rooms.user, 0);
  } finally {
    await gw.close();
  }
});
