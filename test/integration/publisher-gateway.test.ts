/** The publisher library against gateways on a real Redis: every instance receives and delivers. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createPublisher, type Publisher } from '../../src/publisher/index.js';
import { startRedisGateway, type RedisTestGateway } from '../helpers/redis-gateway.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { TestClient } from '../helpers/ws-client.js';

let server: RedisServer;
let gws: RedisTestGateway[] = [];
let publisher: Publisher;

before(async () => {
  server = await startRedisServer();
  gws = [await startRedisGateway(server), await startRedisGateway(server)];
  publisher = createPublisher({ redis: server.url, spoolDir: false });
});
after(async () => {
  await publisher?.close();
  for (const g of gws) await g.close();
  await server?.stop();
});

test('every helper reaches the right connections on both instances; receivers counts the gateways', async () => {
  const [A, B] = gws as [RedisTestGateway, RedisTestGateway];
  const sessA = await TestClient.connect(A.url, { cookie: 'PHPSESSID=pubGatewaySess1' });
  const sessB = await TestClient.connect(B.url, { cookie: 'PHPSESSID=pubGatewaySess1' });
  const entityB = await TestClient.connect(B.url);
  entityB.send({ type: 'subscribe', entityType: 'application', entityId: 17 });
  await entityB.ofType('subscription_confirmation');

  const n = await publisher.sendWebSocketNotification('to everyone', { x: 1 });
  assert.deepEqual(n, { path: 'redis', receivers: 2, fallbacks: [] });
  for (const c of [sessA, sessB, entityB]) assert.deepEqual((await c.next((m) => m.message === 'to everyone', 10_000)).data, { x: 1 });

  await publisher.sendToSession('pubGatewaySess1', 'ignored', { type: 'session_note', text: 'hi' });
  for (const c of [sessA, sessB]) assert.equal((await c.ofType('session_note', 10_000)).text, 'hi');

  await publisher.sendEntityEvent('application', 17, 'new_comment', { id: 5 });
  const ev = await entityB.ofType('entity_event', 10_000);
  assert.equal(ev.eventType, 'new_comment');
  assert.equal(ev.roomId, 'entity_application_17');

  await publisher.sendEntityNotification('application', 17, 'changed', 'changed');
  assert.equal((await entityB.next((m) => m.message === 'changed', 10_000)).type, 'room_message');

  await publisher.triggerPartialApplicationsUpdate('pubGatewaySess1');
  for (const c of [sessA, sessB]) assert.equal((await c.ofType('partial_applications_response', 10_000)).data.source, 'server_push');

  assert.ok(await sessA.expectNone((m) => m.type === 'entity_event' || m.message === 'changed'), 'entity messages stay in the entity room');
  for (const c of [sessA, sessB, entityB]) c.close();
});
