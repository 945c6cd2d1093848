/**
 * What a client may send, and what it cannot inflate: server-only types are refused and relayed
 * to nobody, entity rooms per connection are capped, /metrics keeps a fixed set of type labels
 * whatever clients invent, and one flooding connection cannot fill the log.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SERVER_ONLY_TYPES } from '../../src/protocol/message-types.js';
import { createMetrics } from '../../src/server/metrics.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { sample, scrape } from '../helpers/prometheus.js';
import { captureLogger } from '../helpers/redis-gateway.js';
import { TestClient } from '../helpers/ws-client.js';

let gw: TestGateway;
const clients: TestClient[] = [];
const connect = async (cookie?: string): Promise<TestClient> => {
  const c = await TestClient.connect(gw.url, { cookie });
  clients.push(c);
  return c;
};

before(async () => {
  gw = await startTestGateway({ limits: { maxRoomsPerConnection: 3, ratePerSecond: 10_000, rateBurst: 10_000, rateCloseAfter: 100_000 } }, { observer: createMetrics() });
});
after(async () => {
  for (const c of clients) c.close();
  await gw?.close();
});

test('a client sending a server-only type gets FORBIDDEN_TYPE and nobody receives it', async () => {
  const forger = await connect('PHPSESSID=forgerSession1');
  const sameSession = await connect('PHPSESSID=forgerSession1');
  const bystander = await connect();
  const forged = [...SERVER_ONLY_TYPES, 'made_up_confirmation'];
  for (const receiver of [sameSession, bystander]) receiver.messages.length = 0; // their own greetings
  for (const type of forged) forger.send({ type, roomId: 'session_x', data: { error: false, status: 'success', applications: [{ id: 1 }], source: 'server_push' } });
  for (const type of forged) {
    const error = await forger.ofType('error');
    assert.equal(error.code, 'FORBIDDEN_TYPE', type);
    assert.ok(String(error.message).includes(type), `the error names ${type}`);
  }
  // The relay keeps each sender's order: once a later chat arrives, anything forged would have too.
  forger.send({ type: 'chat', message: 'sentinel' });
  for (const receiver of [sameSession, bystander]) {
    await receiver.next((m) => m.message === 'sentinel');
    assert.deepEqual(receiver.messages.filter((m) => forged.includes(m.type)), [], 'no forged message was relayed');
  }
  const text = await scrape(gw.httpUrl);
  assert.ok(sample(text, 'portico_ws_errors_total', { code: 'FORBIDDEN_TYPE' })! >= forged.length);
});

test('pong, the answer to server_ping, is still a client type', async () => {
  const c = await connect();
  c.send({ type: 'pong', id: 'pong_1', reply_to: 'ping_1', client_timestamp: Date.now() });
  c.send({ type: 'ping', id: 'after-pong' });
  assert.equal((await c.ofType('pong')).reply_to, 'after-pong');
  assert.equal(c.count((m) => m.type === 'error'), 0);
});

test('WSS_MAX_ROOMS_PER_CONNECTION: subscribe beyond it gets TOO_MANY_ROOMS; the session room does not count', async () => {
  const c = await connect('PHPSESSID=roomCapSession1');
  for (const id of [1, 2, 3]) {
    c.send({ type: 'subscribe', entityType: 'resource', entityId: id });
    assert.equal((await c.ofType('subscription_confirmation')).status, 'subscribed');
  }
  c.send({ type: 'subscribe', entityType: 'resource', entityId: 4 });
  assert.equal((await c.ofType('error')).code, 'TOO_MANY_ROOMS');
  assert.equal(gw.gateway.rooms.has('entity_resource_4'), false);
  c.send({ type: 'subscribe', entityType: 'resource', entityId: 3 });
  assert.equal((await c.ofType('subscription_confirmation')).status, 'subscribed', 'a room it is in already is fine');
  c.send({ type: 'unsubscribe', entityType: 'resource', entityId: 1 });
  await c.ofType('subscription_confirmation');
  c.send({ type: 'subscribe', entityType: 'resource', entityId: 4 });
  assert.equal((await c.ofType('subscription_confirmation')).roomId, 'entity_resource_4');
  assert.equal(c.count((m) => m.type === 'error'), 0);
});

test('200 made-up message types: /metrics stays small and none of them becomes a label', async () => {
  const sender = await connect();
  const receiver = await connect();
  const baseline = await scrape(gw.httpUrl);
  for (let i = 0; i < 200; i++) sender.send({ type: `madeup_${i}_${'x'.repeat(40)}`, n: i });
  sender.send({ type: 'chat', message: 'done inventing' });
  await receiver.next((m) => m.message === 'done inventing');
  const text = await scrape(gw.httpUrl);
  assert.doesNotMatch(text, /madeup_/, 'no made-up type is a label value');
  assert.ok(text.length - baseline.length < 1024, `/metrics grew by ${text.length - baseline.length} bytes`);
  assert.ok(sample(text, 'portico_ws_messages_in_total', { type: 'other' })! >= 200);
  assert.ok(sample(text, 'portico_ws_messages_out_total', { type: 'other' })! >= 200, 'relayed (to the receiver and the other open clients) as "other"');
});

test('one flooding connection writes one warning line, not one per frame; a second within the minute adds none', async () => {
  const { log, lines } = captureLogger();
  const flooded = await startTestGateway({ limits: { ratePerSecond: 1, rateBurst: 1, rateCloseAfter: 5 } }, { log });
  try {
    for (let round = 0; round < 2; round++) {
      const c = await TestClient.connect(flooded.url);
      for (let i = 0; i < 3000; i++) c.send({ type: 'ping', id: i });
      assert.equal(await c.waitClosed(10_000), 1008);
    }
    const floods = lines.filter((l) => /flood/.test(l.msg));
    assert.equal(floods.length, 1, `flood warnings: ${floods.length}`);
    assert.ok(lines.filter((l) => l.level >= 40).length <= 2, 'no other warnings piled up');
  } finally {
    await flooded.close();
  }
});
