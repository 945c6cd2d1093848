/**
 * Error paths of a single gateway that the feature tests do not reach: each test breaks when the
 * behaviour it names breaks. Redis and PostgreSQL error paths are in error-paths-redis.test.ts
 * and error-paths-database.test.ts.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ERROR_CODES } from '../../src/protocol/constants.js';
import { errorText } from '../../src/protocol/errors.js';
import { FAILED_DIR } from '../../src/server/ingress/spool.js';
import { sessionRoomId } from '../../src/server/session.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { captureLogger } from '../helpers/redis-gateway.js';
import { waitFor } from '../helpers/wait.js';
import { assertStillServed, TestClient, type Msg } from '../helpers/ws-client.js';

async function withGateway(run: (gw: TestGateway, clients: TestClient[]) => Promise<void>, ...args: Parameters<typeof startTestGateway>): Promise<void> {
  const gw = await startTestGateway(...args);
  const clients: TestClient[] = [];
  try {
    await run(gw, clients);
  } finally {
    for (const c of clients) c.close();
    await gw.close();
  }
}

async function connect(gw: TestGateway, clients: TestClient[], cookie?: string): Promise<TestClient> {
  const c = await TestClient.connect(gw.url, { cookie });
  clients.push(c);
  return c;
}

const isRateLimited = (m: Msg) => m.type === 'error' && m.code === 'RATE_LIMITED';

test('session_message without a session: NO_SESSION to the sender, relayed to nobody', () => withGateway(async (gw, clients) => {
  const lonely = await connect(gw, clients);
  const other = await connect(gw, clients);
  const withSession = await connect(gw, clients, 'PHPSESSID=errorPathsSession01');
  lonely.send({ type: 'session_message', message: 'to whom?' });
  const err = await lonely.ofType('error');
  assert.deepEqual([err.code, err.message], ['NO_SESSION', errorText(ERROR_CODES.NO_SESSION)]);
  for (const c of [other, withSession, lonely]) assert.ok(await c.expectNone((m) => m.message === 'to whom?', 100), 'not relayed');
  await assertStillServed(lonely, 'after-no-session');
}));

test('a handler that throws: INTERNAL_ERROR to the sender, one error log line, everyone keeps being served', async () => {
  const { log, lines } = captureLogger();
  await withGateway(async (gw, clients) => {
    const sender = await connect(gw, clients);
    const peer = await connect(gw, clients);
    // Valid JSON that the chat relay cannot serialise again (too deep for JSON.stringify): a
    // failure inside the handler, reached by nothing but a client frame.
    const depth = 20_000;
    sender.send(`{"type":"chat","message":${'['.repeat(depth)}${']'.repeat(depth)}}`);
    const err = await sender.ofType('error');
    assert.deepEqual([err.code, err.message], ['INTERNAL_ERROR', 'The server could not process this message']);
    assert.ok(!JSON.stringify(err).includes('stack'), 'no internals reach the client');
    const logged = lines.filter((l) => l.msg === 'message handler failed');
    assert.equal(logged.length, 1);
    assert.equal(logged[0]!.type, 'chat');
    assert.equal(logged[0]!.level, 50);

    await assertStillServed(sender, 'after-throw');
    sender.send({ type: 'chat', message: 'normal again' });
    await peer.next((m) => m.type === 'chat' && m.message === 'normal again');
    assert.equal(peer.count((m) => m.type === 'chat'), 0, 'the failed chat reached nobody');
  }, {}, { log });
});

test('room_ping_response keeps an entity-room member alive on the server; a silent member is removed', () => withGateway(async (gw, clients) => {
  const answering = await connect(gw, clients, 'PHPSESSID=roomPingAnswering01');
  const silent = await connect(gw, clients, 'PHPSESSID=roomPingSilent00001');
  for (const c of [answering, silent]) {
    c.send({ type: 'subscribe', entityType: 'resource', entityId: 77 });
    await c.ofType('subscription_confirmation');
  }
  const joinedBy = Date.now();
  const ping = await answering.ofType('room_ping');
  assert.equal(ping.roomId, 'entity_resource_77');
  await waitFor(() => Date.now() >= joinedBy + 20, 'the clock to move past the joins');
  answering.send({ type: 'room_ping_response', roomId: ping.roomId, pingId: ping.pingId });
  await assertStillServed(answering, 'response-handled'); // frames are handled in order
  const now = Date.now();

  // Every frame and pong also counts as a sign of life of the whole connection; pin that in the
  // past so only the room activity decides, then run the cleanup with an idle limit between the
  // joins and the response.
  const conns = [...gw.gateway.connections];
  const connOf = (session: string) => conns.find((c) => c.sessionId === session)!;
  for (const c of conns) c.lastSeen = 0;
  const removed = gw.gateway.rooms.removeIdleEntityMembers(now - joinedBy - 10, now);
  assert.deepEqual(removed.map((r) => [r.conn.sessionId, r.roomId]), [['roomPingSilent00001', 'entity_resource_77']]);
  assert.ok(gw.gateway.rooms.isMember(connOf('roomPingAnswering01'), 'entity_resource_77'), 'the answering member stays');
}, { timers: { roomPingMs: 50 } }));

test('a flood gets one RATE_LIMITED reply per second, not one per dropped message', () => withGateway(async (gw, clients) => {
  const c = await connect(gw, clients);
  const started = Date.now();
  for (let i = 0; i < 60; i++) c.send({ type: 'ping', id: `flood-${i}` });
  // Frames are handled in order: once a later ping is answered (tokens refill at 10/s), every
  // flood frame has been handled. Markers sent before that are limited, like the flood.
  let marker = 0;
  await waitFor(() => {
    c.send({ type: 'ping', id: `marker-${marker++}` });
    return c.count((m) => m.type === 'pong' && String(m.reply_to).startsWith('marker-')) > 0;
  }, 'a ping to get through after the flood');
  const elapsed = Date.now() - started;
  const answered = c.count((m) => m.type === 'pong' && String(m.reply_to).startsWith('flood-'));
  assert.ok(answered >= 5 && answered < 60, `the burst was served and the rest limited (${answered} answered)`);
  const replies = c.messages.filter(isRateLimited);
  assert.ok(replies.length >= 1, 'the sender is told');
  assert.ok(replies.length <= 1 + Math.floor(elapsed / 1000), `${replies.length} RATE_LIMITED replies in ${elapsed} ms`);

  // Still flooding a second later: one more reply, a second after the first.
  await waitFor(() => {
    for (let i = 0; i < 5; i++) c.send({ type: 'ping' });
    return c.count(isRateLimited) >= 2;
  }, 'a second RATE_LIMITED once a second has passed');
  const times = c.messages.filter(isRateLimited).map((m) => Date.parse(m.timestamp));
  // The reply's timestamp is taken a moment after the rate check, hence a few ms of slack.
  for (let i = 1; i < times.length; i++) assert.ok(times[i]! - times[i - 1]! >= 990, `replies ${times[i]! - times[i - 1]!} ms apart`);
}, { limits: { ratePerSecond: 10, rateBurst: 5, rateCloseAfter: 1_000_000 } }));

test('replies to a client that does not read are bounded too: it is disconnected, others are served', async () => {
  const { log, lines } = captureLogger();
  await withGateway(async (gw, clients) => {
    const slow = await connect(gw, clients);
    const other = await connect(gw, clients);
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    // Only direct replies (pongs echoing 200-character ids), no broadcast: the bound on the
    // connection's own sends is what must trip.
    const ping = JSON.stringify({ type: 'ping', id: 'i'.repeat(200), heartbeat_id: 'h'.repeat(200) });
    await waitFor(async () => {
      for (let i = 0; i < 500 && slow.ws.readyState === 1; i++) slow.send(ping);
      await new Promise((r) => setImmediate(r));
      return gw.gateway.connections.size === 1;
    }, 'the non-reading client to be dropped', 30_000);
    assert.equal(lines.filter((l) => l.msg === 'client is not reading; disconnecting').length, 1, 'one log line');
    await assertStillServed(other, 'after-overflow');
  }, { limits: { maxBufferedBytes: 64 * 1024, ratePerSecond: 1_000_000, rateBurst: 1_000_000, rateCloseAfter: 1_000_000_000 } }, { log });
});

test('a session spool file without the session id in its body: the id comes from the file name; spool logs mask it', async () => {
  const { log, lines } = captureLogger();
  const session = 'spoolNameOnlySession42';
  const stamp = () => `${Date.now()}.${Math.floor(Math.random() * 1e6)}`;
  await withGateway(async (gw, clients) => {
    const mine = await connect(gw, clients, `PHPSESSID=${session}`);
    const other = await connect(gw, clients, 'PHPSESSID=someoneElse000042');
    // As older PHP wrote them: the wrapper without sessionId, and a bare { data } without a type.
    fs.writeFileSync(path.join(gw.spoolDir, `websocket_session_${session}_${stamp()}.json`),
      JSON.stringify({ type: 'session_targeted', message: 'm', data: { type: 'cart_update', items: 2 } }));
    const got = await mine.ofType('cart_update');
    assert.deepEqual([got.items, got.roomId, got.sessionId], [2, sessionRoomId(session), undefined]);
    fs.writeFileSync(path.join(gw.spoolDir, `websocket_session_${session}_${stamp()}.json`), JSON.stringify({ data: { type: 'bare_data' } }));
    assert.equal((await mine.ofType('bare_data')).roomId, sessionRoomId(session));
    assert.ok(await other.expectNone((m) => m.type === 'cart_update' || m.type === 'bare_data'), 'that session only');

    const bad = `websocket_session_${session}_${stamp()}.json`;
    fs.writeFileSync(path.join(gw.spoolDir, bad), '[1,2]');
    await waitFor(() => fs.existsSync(path.join(gw.spoolDir, FAILED_DIR, bad)), 'the unusable file to be moved to failed/');
    await waitFor(() => lines.some((l) => l.msg === 'spool file could not be delivered; moved aside'), 'the failure to be logged');
    const spoolLines = lines.filter((l) => /^spool file/.test(l.msg));
    assert.ok(spoolLines.filter((l) => l.msg === 'spool file delivered').length >= 2, 'delivered files are logged (debug)');
    for (const l of spoolLines) assert.match(String(l.file), /^websocket_session_spoolNam\.\.\._[\d.]+\.json$/, 'the file is named masked');
    assert.ok(!JSON.stringify(lines).includes(session), 'the session id never appears in full');
  }, {}, { log });
});
