/**
 * A notification with `target: "session"` names the session in clear (`sessionId`): the gateway
 * routes by it and takes it out of the frame, so the id is kept neither in Redis history nor on
 * the bus between instances, and the page gets only its session room id (as with `target: "user"`).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rawPublisher, startRedisGateway, teardown, waitFor } from '../helpers/redis-gateway.js';
import { startRedisServer } from '../helpers/redis-server.js';
import { TestClient } from '../helpers/ws-client.js';

const SESSION_ID = 'secret-session-id-0042';

test('a session-targeted notification carries no session id to the page, the bus or history', async () => {
  const server = await startRedisServer();
  const A = await startRedisGateway(server);
  const B = await startRedisGateway(server);
  const php = rawPublisher(server);
  const bus = rawPublisher(server);
  const onBus: string[] = [];
  await bus.psubscribe(`${A.config.redis.prefix}*`);
  bus.on('pmessage', (_pattern: string, _channel: string, text: string) => onBus.push(text));
  const page = await TestClient.connect(B.url, { cookie: `PHPSESSID=${SESSION_ID}` });
  const onA = await TestClient.connect(A.url, { cookie: `PHPSESSID=${SESSION_ID}` });
  try {
    await php.publish('notifications', JSON.stringify({ type: 'booking_update', target: 'session', sessionId: SESSION_ID, message: 'for you' }));
    const got = await page.next((m) => m.message === 'for you', 5000);
    await onA.next((m) => m.message === 'for you', 5000);
    assert.equal(got.sessionId, undefined, 'the session id is not sent to the page');
    assert.ok(typeof got.roomId === 'string' && got.roomId.startsWith('session_'));
    const historyKey = `${A.config.redis.prefix}h:{${got.roomId}}:s`;
    await waitFor(async () => (await php.xlen(historyKey)) === 1, 'the notification entered history');
    const kept = JSON.stringify(await php.xrange(historyKey, '-', '+'));
    assert.ok(!kept.includes(SESSION_ID), `history keeps the session id: ${kept}`);
    await waitFor(() => onBus.some((t) => t.includes('for you')), 'the publication went over the bus');
    for (const text of onBus) assert.ok(!text.includes(SESSION_ID), `the bus carries the session id: ${text}`);
  } finally {
    await bus.quit();
    await teardown(server, [A, B], [page, onA]);
    php.disconnect();
  }
});
