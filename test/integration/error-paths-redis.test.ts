/**
 * Error paths between gateways on a real redis-server: bytes on the bus channel that are not an
 * envelope, two instances configured with the same WSS_INSTANCE_ID, and a session_targeted
 * message without `data` on PHP's session_messages channel.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Redis } from 'ioredis';
import { clusterChannel } from '../../src/server/redis/dependencies.js';
import { sessionRoomId } from '../../src/server/session.js';
import { health, rawPublisher, startRedisGateway, type RedisTestGateway } from '../helpers/redis-gateway.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';
import { TestClient } from '../helpers/ws-client.js';

let server: RedisServer;
let php: Redis;

before(async () => {
  server = await startRedisServer();
  php = rawPublisher(server);
});
after(async () => {
  php?.disconnect();
  await server?.stop();
});

/** Gateways and clients for one test, closed however it ends. */
async function scenario(run: (gw: (id?: string) => Promise<RedisTestGateway>, connect: (g: RedisTestGateway, cookie?: string) => Promise<TestClient>) => Promise<void>): Promise<void> {
  const gateways: RedisTestGateway[] = [];
  const clients: TestClient[] = [];
  try {
    await run(
      async (instanceId) => {
        const g = await startRedisGateway(server, instanceId ? { instanceId } : {});
        gateways.push(g);
        await waitFor(async () => (await health(g)).redis === 'connected', 'the gateway to be connected to Redis');
        return g;
      },
      async (g, cookie) => {
        const c = await TestClient.connect(g.url, { cookie });
        clients.push(c);
        return c;
      },
    );
  } finally {
    for (const c of clients) c.close();
    for (const g of gateways) await g.close();
  }
}

/**
 * Everything published before this call has been handled by `g`: its one subscriber connection
 * receives in order, so once a later notification has reached `c` (a client of `g`), it has.
 */
async function drained(c: TestClient, marker: string): Promise<void> {
  await php.publish('notifications', JSON.stringify({ type: 'notification', message: marker }));
  await c.next((m) => m.message === marker);
}

test('bus messages that are not envelopes are ignored and logged sparingly; the bus keeps working', () => scenario(async (gateway, connect) => {
  const a = await gateway();
  const b = await gateway();
  const onA = await connect(a);
  const onB = await connect(b);
  const junk = ['not an envelope', 'PWS1 {"o":', 'PWS1 {"o":"x"}\n{}', 'PWS1 no newline', 'PWS1 [1]\n{}', 'PWS9 {"o":"x","n":"y"}\n{}', 'PWS1 {"o":"gw","n":"n","q":"not a number"}\n{}'];
  for (const text of junk) await php.publish(clusterChannel(b.config.redis), text);
  await drained(onB, 'after the junk');

  const ignored = b.lines.filter((l) => l.msg === 'ignored a bus message this version cannot decode');
  assert.equal(ignored.length, 5, 'five lines, then the rest held back');
  assert.equal(onB.count((m) => m.type === undefined), 0, 'nothing of it (frames "{}") reached a client');
  onA.send({ type: 'chat', message: 'across after junk' });
  await onB.next((m) => m.message === 'across after junk');
  assert.equal((await health(b)).redis, 'connected');
  await b.close(); // the held-back count is reported when the window ends or the bus closes
  assert.ok(b.lines.some((l) => l.msg === 'similar warnings suppressed' && l.suppressed === junk.length - 5));
}));

test('two gateways with the same WSS_INSTANCE_ID: each logs one error naming the problem, and serves its own clients', () => scenario(async (gateway, connect) => {
  const x = await gateway('twin-instance');
  const y = await gateway('twin-instance');
  const x1 = await connect(x);
  const x2 = await connect(x);
  const y1 = await connect(y);
  for (let i = 0; i < 3; i++) {
    x1.send({ type: 'chat', message: `from x ${i}` });
    y1.send({ type: 'chat', message: `from y ${i}` });
  }
  await x2.next((m) => m.message === 'from x 2');
  await waitFor(() => x.redis.broker.pendingPublishes === 0 && y.redis.broker.pendingPublishes === 0, 'both publishes acknowledged');
  await drained(x1, 'twin marker x');
  await drained(y1, 'twin marker y');
  for (const g of [x, y]) {
    const errors = g.lines.filter((l) => /another gateway uses this instance id/.test(l.msg));
    assert.equal(errors.length, 1, 'one line, however many messages');
    assert.equal(errors[0]!.level, 50);
    assert.equal(errors[0]!.instance, 'twin-instance');
  }
}));

test('session_targeted without data on session_messages: the message text reaches that session as session_message', () => scenario(async (gateway, connect) => {
  const a = await gateway();
  const b = await gateway();
  const mine = await connect(a, 'PHPSESSID=noDataSession00001');
  const alsoMine = await connect(b, 'bookingfrontendsession=noDataSession00001');
  const other = await connect(b, 'PHPSESSID=someoneElse0000001');
  await php.publish('session_messages', JSON.stringify({ type: 'session_targeted', sessionId: 'noDataSession00001', message: 'Plain text only' }));
  for (const c of [mine, alsoMine]) {
    const got = await c.next((m) => m.message === 'Plain text only');
    assert.equal(got.type, 'session_message');
    assert.equal(got.roomId, sessionRoomId('noDataSession00001'));
    assert.equal(got.sessionId, undefined, 'the wrapper is not delivered');
    assert.ok(!Number.isNaN(Date.parse(got.timestamp)));
  }
  await drained(other, 'no-data marker');
  assert.equal(other.count((m) => m.message === 'Plain text only'), 0, 'another session does not get it');
}));
