/** With Redis behind the gateways, one POST /publish reaches the clients of every instance exactly once. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { quietWindow, startRedisGateway, type RedisTestGateway } from '../helpers/redis-gateway.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { TestClient } from '../helpers/ws-client.js';

const TOKEN = 'cluster-publish-token';
let server: RedisServer;
let gws: RedisTestGateway[] = [];

before(async () => {
  server = await startRedisServer();
  gws = [await startRedisGateway(server, { publish: { token: TOKEN } }), await startRedisGateway(server, { publish: { token: TOKEN } })];
});
after(async () => {
  for (const g of gws) await g.close();
  await server?.stop();
});

test('a broadcast and an entity-room message posted to one instance reach the clients of both, once', async () => {
  const [A, B] = gws as [RedisTestGateway, RedisTestGateway];
  const onA = await TestClient.connect(A.url);
  const onB = await TestClient.connect(B.url);
  const watcherB = await TestClient.connect(B.url);
  watcherB.send({ type: 'subscribe', entityType: 'building', entityId: 3 });
  await watcherB.ofType('subscription_confirmation');

  const post = (body: unknown) => fetch(`${A.httpUrl}/publish`, {
    method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  assert.equal((await post({ channel: 'notifications', payload: { type: 'notification', message: 'cluster wide' } })).status, 202);
  for (const c of [onA, onB, watcherB]) await c.next((m) => m.message === 'cluster wide', 10_000);

  assert.equal((await post({ channel: 'room_messages', payload: { type: 'room_message', roomId: 'entity_building_3', message: 'building news' } })).status, 202);
  await watcherB.next((m) => m.message === 'building news', 10_000);

  await quietWindow(300); // nothing else may arrive: catches a second copy or a stray delivery
  for (const c of [onA, onB, watcherB]) {
    assert.equal(c.count((m) => m.message === 'cluster wide'), 0, 'no second copy');
    assert.equal(c.count((m) => m.message === 'building news'), 0, 'no copy outside the room, no second copy');
  }
  for (const c of [onA, onB, watcherB]) c.close();
});
