/**
 * Entity-room authorization against a real HTTP server standing in for PorticoEstate: allowed,
 * denied, cached per session and room, unchecked types open, fail closed while it is down.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createMetrics } from '../../src/server/metrics.js';
import { captureLogger, waitFor } from '../helpers/redis-gateway.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startPorticoAuthServer, type PorticoAuthServer } from '../helpers/portico-auth.js';
import { TestClient } from '../helpers/ws-client.js';

let portico: PorticoAuthServer;
let gw: TestGateway;
const clients: TestClient[] = [];
const { log, lines } = captureLogger();
const metrics = createMetrics({ processMetrics: false });

before(async () => {
  portico = await startPorticoAuthServer();
  portico.allow('sessOwner01', 'application', 777);
  portico.allow('PHPSESS0001', 'application', 778);
  gw = await startTestGateway({ auth: { subscribeUrl: portico.accessUrl, subscribeTypes: ['application'], timeoutMs: 400, cacheMs: 60_000, retryMs: 200 } }, { log, observer: metrics });
});
after(async () => {
  for (const c of clients) c.close();
  await gw?.close();
  await portico?.close();
});

async function connect(cookie?: string): Promise<TestClient> {
  const c = await TestClient.connect(gw.url, { cookie });
  clients.push(c);
  return c;
}

const subscribe = (c: TestClient, entityType: string, entityId: number) => c.send({ type: 'subscribe', entityType, entityId });
const reply = (c: TestClient) => c.next((m) => m.type === 'subscription_confirmation' || m.type === 'error');

test('allowed sessions join, others get SUBSCRIBE_DENIED and read nothing from the room; answers are cached', async () => {
  const owner = await connect('bookingfrontendsession=sessOwner01');
  const stranger = await connect('bookingfrontendsession=sessStranger');
  const noSession = await connect();
  const phpsess = await connect('PHPSESSID=PHPSESS0001');

  const before = portico.requests.access;
  subscribe(owner, 'application', 777);
  assert.equal((await reply(owner)).status, 'subscribed');
  subscribe(stranger, 'application', 777);
  const denied = await reply(stranger);
  assert.equal(denied.code, 'SUBSCRIBE_DENIED');
  subscribe(noSession, 'application', 777);
  assert.equal((await reply(noSession)).code, 'SUBSCRIBE_DENIED');
  subscribe(phpsess, 'application', 778);
  assert.equal((await reply(phpsess)).status, 'subscribed', 'a PHPSESSID session is asked about with its own cookie');
  assert.equal(portico.cookies.at(-1), 'PHPSESSID=PHPSESS0001');
  assert.equal(portico.requests.access - before, 3, 'no request without a session');

  // Cached per session and room: asking again (after unsubscribing) does not ask PorticoEstate.
  owner.send({ type: 'unsubscribe', entityType: 'application', entityId: 777 });
  await owner.ofType('subscription_confirmation');
  subscribe(owner, 'application', 777);
  assert.equal((await reply(owner)).status, 'subscribed');
  subscribe(stranger, 'application', 777);
  assert.equal((await reply(stranger)).code, 'SUBSCRIBE_DENIED');
  assert.equal(portico.requests.access - before, 3);

  // Types not listed stay open, without a request.
  subscribe(stranger, 'resource', 5);
  assert.equal((await reply(stranger)).status, 'subscribed');
  assert.equal(portico.requests.access - before, 3);

  // What the room gets reaches the member only.
  await gw.gateway.ingress.handle('notifications', { type: 'entity_event', target: 'entity', entityType: 'application', entityId: 777, data: { comment: 'private' } }, 'http');
  await owner.next((m) => m.type === 'entity_event' && m.data?.comment === 'private');
  await gw.gateway.ingress.handle('notifications', { type: 'notification', message: 'marker' }, 'http');
  await stranger.next((m) => m.message === 'marker');
  assert.equal(stranger.count((m) => m.type === 'entity_event'), 0);

  const text = (await metrics.exposition()).body;
  assert.match(text, /portico_ws_auth_callbacks_total\{callback="subscribe",outcome="yes"\} 2/);
  assert.match(text, /portico_ws_auth_callbacks_total\{callback="subscribe",outcome="no"\} 1/);
  assert.match(text, /portico_ws_auth_callbacks_total\{callback="subscribe",outcome="cached"\} 2/);
});

test('while the endpoint is down subscribe is denied (fail closed) and /health says so; back, it is asked again', async () => {
  portico.allow('sessLater01', 'application', 900);
  const c = await connect('bookingfrontendsession=sessLater01');
  await portico.down();
  subscribe(c, 'application', 900);
  assert.equal((await reply(c)).code, 'SUBSCRIBE_DENIED');
  const report = gw.gateway.health();
  assert.equal(report.subscribeAuth, 'down');
  assert.equal(report.status, 'degraded');
  c.send({ type: 'ping', id: 'alive' });
  assert.equal((await c.ofType('pong')).reply_to, 'alive', 'the connection keeps being served');
  await portico.up();
  // While down, one probe per WSS_AUTH_RETRY_MS (200 ms here) goes out; the others are denied at once.
  await waitFor(async () => {
    subscribe(c, 'application', 900);
    return (await reply(c)).status === 'subscribed';
  }, 'the endpoint back (the failure was not cached)', 5000);
  assert.equal(gw.gateway.health().subscribeAuth, 'up');
  assert.deepEqual(lines.filter((l) => /subscribe-auth endpoint/.test(l.msg)).map((l) => l.to), ['up', 'down', 'up']);
});

test('a slow endpoint is given up at the timeout', async () => {
  portico.allow('sessSlow001', 'application', 901);
  const c = await connect('bookingfrontendsession=sessSlow001');
  portico.setDelay(1500);
  const started = Date.now();
  subscribe(c, 'application', 901);
  assert.equal((await reply(c)).code, 'SUBSCRIBE_DENIED');
  assert.ok(Date.now() - started < 1400);
  portico.setDelay(0);
});
