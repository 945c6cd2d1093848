/**
 * Recovery over a raw WebSocket (docs/protocol.md, "Recovery"): a client that was away gets what it missed
 * in every stream it is in (session room, entity room, broadcast), in order, once, then live
 * ones; on the same instance, on another one, and on a single node without Redis. History lost
 * (FLUSHALL) or a window passed is answered `recovered: false`; a stream the connection is not
 * in is never read. Live publications racing the history read arrive once, in order.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestGateway } from '../helpers/gateway.js';
import { rawPublisher, startRedisGateway, teardown, waitFor } from '../helpers/redis-gateway.js';
import { startRedisServer } from '../helpers/redis-server.js';
import { TestClient, type Msg } from '../helpers/ws-client.js';

const SESSION = 'PHPSESSID=recover-session-01';
type Positions = Record<string, { offset: number; epoch: string }>;

/** The last position per stream among the messages a client got. */
function positions(messages: Msg[], into: Positions = {}): Positions {
  for (const m of messages) {
    const p = m.stream_position;
    if (p) into[p.stream] = { offset: p.offset, epoch: p.epoch };
  }
  return into;
}

async function joined(url: string, cookie = SESSION): Promise<TestClient> {
  const c = await TestClient.connect(url, { cookie });
  c.send({ type: 'subscribe', entityType: 'resource', entityId: 7 });
  await c.ofType('subscription_confirmation');
  return c;
}

/** Reconnect as a page does: subscribe again, then recover; resolves with the result and what came before it. */
async function reconnect(url: string, known: Positions): Promise<{ client: TestClient; result: Msg; before: Msg[] }> {
  const client = await TestClient.connect(url, { cookie: SESSION });
  client.send({ type: 'subscribe', entityType: 'resource', entityId: 7 });
  client.send({ type: 'recover', streams: known });
  const result = await client.ofType('recovery_result', 5000);
  const index = client.messages.length;
  return { client, result, before: client.messages.slice(0, index) };
}

const streamMessages = (msgs: Msg[], stream: string) => msgs.filter((m) => m.stream_position?.stream === stream);

test('recover on another instance: missed session, entity and broadcast messages in order, once, then live', async () => {
  const server = await startRedisServer();
  const A = await startRedisGateway(server);
  const B = await startRedisGateway(server);
  const php = rawPublisher(server);
  const other = await TestClient.connect(B.url);
  const first = await joined(A.url);
  let second: TestClient | undefined;
  try {
    await php.publish('notifications', JSON.stringify({ type: 'notification', message: 'before 1' }));
    await php.publish('notifications', JSON.stringify({ type: 'notification', target: 'entity', entityType: 'resource', entityId: 7, message: 'before 2' }));
    await first.next((m) => m.message === 'before 2', 5000);
    await first.next((m) => m.message === 'before 1', 5000);
    // As our client does: positions from stream messages, and from the greeting for streams without one yet.
    const all = first.raw.map((r) => JSON.parse(r) as Msg);
    const known: Positions = { ...all.find((m) => m.type === 'connection_success')!.stream_positions };
    positions(all, known);
    const sessionRoom = Object.keys(known).find((s) => s.startsWith('session_'))!;
    assert.ok(known.broadcast && known.entity_resource_7 && sessionRoom, `positions seen: ${JSON.stringify(known)}`);
    assert.equal(known[sessionRoom]!.offset, 0, 'nothing in the session stream yet');
    first.close();
    await first.waitClosed();

    // While away: PHP on every legacy channel, a chat relayed by a client on B, a spool file.
    const sessionId = 'recover-session-01';
    for (let i = 0; i < 5; i++) await php.publish('notifications', JSON.stringify({ type: 'notification', message: `gap broadcast ${i}` }));
    for (let i = 0; i < 4; i++) await php.publish('session_messages', JSON.stringify({ type: 'session_targeted', sessionId, data: { type: 'booking_update', n: i } }));
    for (let i = 0; i < 3; i++) await php.publish('room_messages', JSON.stringify({ roomId: 'entity_resource_7', type: 'entity_update', n: i }));
    other.send({ type: 'chat', message: 'gap chat' });
    await other.next((m) => m.message === 'gap broadcast 4', 5000);
    const top = async (stream: string) => Number(await php.call('hget', `${A.config.redis.prefix}h:{${stream}}:m`, 'o'));
    await waitFor(async () => (await top('broadcast')) === known.broadcast!.offset + 6, 'the chat appended too');

    const { client, result, before } = await reconnect(B.url, known);
    second = client;
    assert.equal(result.recovered, true, JSON.stringify(result));
    assert.equal(result.streams.broadcast.missed, 6);
    assert.equal(result.streams.entity_resource_7.missed, 3);
    assert.equal(result.streams[sessionRoom].missed, 4, 'a stream known only from the greeting is recovered too');
    assert.equal(result.missed, 13);
    assert.deepEqual(streamMessages(before, sessionRoom).map((m) => m.n), [0, 1, 2, 3]);
    assert.deepEqual(streamMessages(before, 'broadcast').map((m) => m.message), [0, 1, 2, 3, 4].map((i) => `gap broadcast ${i}`).concat('gap chat'));
    assert.deepEqual(streamMessages(before, 'entity_resource_7').map((m) => m.n), [0, 1, 2]);
    for (const stream of ['broadcast', 'entity_resource_7', sessionRoom]) {
      const offsets = streamMessages(before, stream).map((m) => m.stream_position.offset);
      assert.deepEqual(offsets, offsets.map((_, i) => known[stream]!.offset + 1 + i), `${stream} contiguous after the known offset`);
      assert.equal(result.streams[stream].offset, offsets.at(-1));
    }
    // Live afterwards: exactly the next offset.
    await php.publish('notifications', JSON.stringify({ type: 'notification', message: 'after' }));
    const after = await client.next((m) => m.message === 'after', 5000);
    assert.equal(after.stream_position.offset, result.streams.broadcast.offset + 1);
    assert.equal(client.count((m) => /^gap /.test(String(m.message))), 6, 'nothing twice');
  } finally {
    php.disconnect();
    await teardown(server, [A, B], [other, first, ...(second ? [second] : [])]);
  }
});

test('session pushes missed while away are recovered from the session stream', async () => {
  const server = await startRedisServer();
  const A = await startRedisGateway(server);
  const php = rawPublisher(server);
  const first = await joined(A.url);
  let second: TestClient | undefined;
  try {
    await php.publish('session_messages', JSON.stringify({ type: 'session_targeted', sessionId: 'recover-session-01', data: { type: 'booking_update', n: -1 } }));
    const seen = await first.next((m) => m.type === 'booking_update', 5000);
    const stream = seen.stream_position.stream as string;
    assert.match(stream, /^session_[0-9a-f]{10}$/);
    const known = { [stream]: { offset: seen.stream_position.offset, epoch: seen.stream_position.epoch } };
    first.close();
    await first.waitClosed();
    for (let i = 0; i < 3; i++) await php.publish('session_messages', JSON.stringify({ type: 'session_targeted', sessionId: 'recover-session-01', data: { type: 'booking_update', n: i } }));
    await waitFor(async () => Number((await php.call('hget', `${A.config.redis.prefix}h:{${stream}}:m`, 'o')) ?? 0) === 4, 'appended');
    const { client, result, before } = await reconnect(A.url, known);
    second = client;
    assert.equal(result.recovered, true);
    assert.deepEqual(streamMessages(before, stream).map((m) => m.n), [0, 1, 2]);
  } finally {
    php.disconnect();
    await teardown(server, [A], [first, ...(second ? [second] : [])]);
  }
});

test('FLUSHALL: recovered false, epoch_changed, with the new position; a window passed: window_passed', async () => {
  const server = await startRedisServer();
  const A = await startRedisGateway(server, { delivery: { historySize: 5 } });
  const php = rawPublisher(server);
  const clients: TestClient[] = [];
  try {
    const first = await joined(A.url);
    clients.push(first);
    await php.publish('notifications', JSON.stringify({ type: 'notification', message: 'one' }));
    const one = await first.next((m) => m.message === 'one', 5000);
    const known = { broadcast: { offset: one.stream_position.offset, epoch: one.stream_position.epoch } };
    first.close();

    for (let i = 0; i < 8; i++) await php.publish('notifications', JSON.stringify({ type: 'notification', message: `many ${i}` }));
    await waitFor(async () => Number(await php.call('hget', `${A.config.redis.prefix}h:{broadcast}:m`, 'o')) === known.broadcast.offset + 8, 'appended');
    const passed = await reconnect(A.url, known);
    clients.push(passed.client);
    assert.equal(passed.result.recovered, false);
    assert.equal(passed.result.streams.broadcast.reason, 'window_passed');
    assert.equal(passed.result.streams.broadcast.offset, known.broadcast.offset + 8);
    assert.equal(streamMessages(passed.before, 'broadcast').length, 0, 'nothing half-recovered');

    await php.flushall();
    const flushed = await reconnect(A.url, { broadcast: { offset: known.broadcast.offset + 8, epoch: known.broadcast.epoch } });
    clients.push(flushed.client);
    assert.equal(flushed.result.recovered, false);
    assert.equal(flushed.result.streams.broadcast.reason, 'epoch_changed');
    assert.notEqual(flushed.result.streams.broadcast.epoch, known.broadcast.epoch);
    assert.equal(flushed.result.streams.broadcast.offset, 0);
  } finally {
    php.disconnect();
    await teardown(server, [A], clients);
  }
});

test('a stream the connection is not in is never read: not_member, nothing of it sent', async () => {
  const server = await startRedisServer();
  const A = await startRedisGateway(server);
  const php = rawPublisher(server);
  const victim = await TestClient.connect(A.url, { cookie: 'PHPSESSID=victim-session-99' });
  const clients = [victim];
  try {
    await php.publish('session_messages', JSON.stringify({ type: 'session_targeted', sessionId: 'victim-session-99', data: { type: 'secret', text: 'victim only' } }));
    const secret = await victim.ofType('secret', 5000);
    const stream = secret.stream_position.stream as string;
    const { client, result, before } = await reconnect(A.url, { [stream]: { offset: 0, epoch: secret.stream_position.epoch }, entity_resource_99: { offset: 0, epoch: 'x' } });
    clients.push(client);
    assert.equal(result.recovered, false);
    assert.equal(result.streams[stream].reason, 'not_member');
    assert.equal(result.streams.entity_resource_99.reason, 'not_member');
    assert.equal(before.filter((m) => m.type === 'secret').length, 0);
    client.send({ type: 'recover', streams: { x: { offset: -1, epoch: 'e' } } });
    assert.equal((await client.ofType('error')).code, 'INVALID_MESSAGE');
  } finally {
    php.disconnect();
    await teardown(server, [A], clients);
  }
});

test('live publications racing the history read arrive once and in order', async () => {
  const server = await startRedisServer();
  const A = await startRedisGateway(server);
  const B = await startRedisGateway(server, { limits: { ratePerSecond: 10_000, rateBurst: 10_000 } });
  const sender = await TestClient.connect(B.url);
  const first = await joined(A.url);
  const clients = [sender, first];
  let stop = false;
  let sent = 0;
  try {
    sender.send({ type: 'notification', message: 'seed' });
    const seed = await first.next((m) => m.message === 'seed', 5000);
    const known = { broadcast: { offset: seed.stream_position.offset, epoch: seed.stream_position.epoch } };
    first.close();
    const pump = (async () => {
      while (!stop) {
        sender.send({ type: 'notification', message: `race ${sent++}` });
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    await sender.next((m) => m.message === 'race 20', 5000);
    const { client, result } = await reconnect(A.url, known);
    clients.push(client);
    const later = sent + 30;
    await sender.next((m) => m.message === `race ${later}`, 10_000);
    stop = true;
    await pump;
    const last = `race ${sent - 1}`;
    await waitFor(() => client.count((m) => m.message === last) === 1, 'the last one');
    assert.equal(result.recovered, true);
    const offsets = client.messages.filter((m) => m.stream_position?.stream === 'broadcast').map((m) => m.stream_position.offset as number);
    const top = known.broadcast.offset + sent;
    assert.equal(new Set(offsets).size, offsets.length, 'no duplicates');
    assert.deepEqual([...offsets].sort((x, y) => x - y), Array.from({ length: sent }, (_, i) => known.broadcast.offset + 1 + i), 'no gap');
    assert.equal(Math.max(...offsets), top);
    // From the first missed one on, strictly in order (a live one that came before the recover may precede it; the client reorders).
    const tail = offsets.slice(offsets.indexOf(known.broadcast.offset + 1));
    assert.deepEqual(tail, [...tail].sort((x, y) => x - y));
  } finally {
    stop = true;
    await teardown(server, [A, B], clients);
  }
});

test('single node without Redis: recover from the memory broker', async () => {
  const gw = await startTestGateway();
  const first = await joined(gw.url);
  const sender = await joined(gw.url, 'PHPSESSID=recover-sender-02'); // only members speak in a room
  const clients = [first, sender];
  try {
    sender.send({ type: 'entity_event', entityType: 'resource', entityId: 7, event: 'seed' });
    const seed = await first.next((m) => m.event === 'seed');
    const known = { entity_resource_7: { offset: seed.stream_position.offset, epoch: seed.stream_position.epoch } };
    first.close();
    await first.waitClosed();
    for (let i = 0; i < 3; i++) sender.send({ type: 'entity_event', entityType: 'resource', entityId: 7, event: `gap ${i}` });
    sender.send({ type: 'ping', id: 'sync' });
    await sender.ofType('pong');
    const { client, result, before } = await reconnect(gw.url, known);
    clients.push(client);
    assert.equal(result.recovered, true);
    assert.deepEqual(streamMessages(before, 'entity_resource_7').map((m) => m.event), ['gap 0', 'gap 1', 'gap 2']);
  } finally {
    for (const c of clients) c.close();
    await gw.close();
  }
});
