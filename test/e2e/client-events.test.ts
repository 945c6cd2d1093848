/**
 * The served client in headless Chromium against a real gateway, used the way PorticoEstate pages
 * use the original client.js: include the script, call createWebSocketClient(), listen for portico:* events.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { TEXTS } from '../../src/protocol/constants.js';
import { sessionRoomId } from '../../src/server/session.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { TestClient, type Msg } from '../helpers/ws-client.js';
import { buildClientAssets, launchChromium, openGatewayPage, sessionPage, WAIT } from './browser.js';

const SESSION = 'e2eSession0123456789abcdef';
const EVENTS = ['connected', 'notification', 'chat', 'partial_applications', 'user_info_updated', 'requires_user_info',
  'message', 'raw', 'reconnecting', 'sent', 'disconnected'];

/** A page like PorticoEstate's: a user id field, a status element, the script, one call. */
const HOST_PAGE = `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head><body>
<input type="hidden" id="userId" value="77"><span id="connection-status"></span>
<script>
  window.__events = [];
  for (const name of ${JSON.stringify(EVENTS)}) {
    window.addEventListener('portico:' + name, (e) => window.__events.push({ name, detail: e.detail }));
  }
</script>
<script src="/client.js"></script>
<script>
  window.client = createWebSocketClient();
  window.__in = []; window.__out = [];
  client.on('receive', (m) => __in.push(m));
  client.on('send', (m) => __out.push(m));
</script></body></html>`;

type Recorded = { name: string; detail: any };

let browser: Browser;
let gw: TestGateway;
let page: Page;
let errors: string[];
let peer: TestClient;

const events = (name: string): Promise<any[]> =>
  page.evaluate((n) => (globalThis as any).__events.filter((e: Recorded) => e.name === n).map((e: Recorded) => e.detail), name);

async function waitForEvent(name: string, predicate: string = 'true'): Promise<any> {
  const handle = await page.waitForFunction(
    ([n, p]) => (globalThis as any).__events.find((e: Recorded) => e.name === n && new Function('d', `return ${p}`)(e.detail))?.detail,
    [name, predicate] as const, WAIT,
  );
  return handle.jsonValue();
}

before(async () => {
  const clientAssetsDir = buildClientAssets();
  gw = await startTestGateway({ timers: { serverPingMs: 500, roomPingMs: 500 } }, { clientAssetsDir });
  browser = await launchChromium();
  ({ page, errors } = await sessionPage(browser, gw.httpUrl, SESSION));
  await openGatewayPage(page, gw.httpUrl, HOST_PAGE);
  peer = await TestClient.connect(gw.url);
});

after(async () => {
  peer?.close();
  await browser?.close();
  await gw?.close();
});

test('portico:connected carries the connection_success message, once, and #connection-status says Connected', async () => {
  const detail = await waitForEvent('connected');
  assert.equal(detail.type, 'connection_success');
  assert.equal(detail.message, TEXTS.connected);
  assert.equal(detail.roomId, sessionRoomId(SESSION), 'the session cookie reached the gateway');
  assert.match(detail.timestamp, /^\d{4}-/);
  await page.waitForFunction(() => (globalThis as any).document.getElementById('connection-status')?.textContent === 'Connected', null, WAIT);
  assert.equal(await page.evaluate(() => (globalThis as any).client.getStatus()), 'OPEN');
  assert.equal((await events('connected')).length, 1);
});

test('the user id on the page is found and sent: portico:user_info_updated {userId, success}', async () => {
  assert.deepEqual(await waitForEvent('user_info_updated'), { userId: 77, success: true });
  await page.evaluate(() => (globalThis as any).client.updateUserInfo(5));
  assert.deepEqual(await waitForEvent('user_info_updated', 'd.userId === 5'), { userId: 5, success: true });
});

test('chat and notification from another client arrive as portico:chat / portico:notification with the message as detail', async () => {
  peer.send({ type: 'chat', message: 'hello page', extra: 1 });
  peer.send({ type: 'notification', message: 'alert page' });
  const chat = await waitForEvent('chat', "d.message === 'hello page'");
  assert.equal(chat.type, 'chat');
  assert.equal(chat.extra, 1);
  assert.equal(chat.source, 'client');
  const notification = await waitForEvent('notification', "d.message === 'alert page'");
  assert.equal(notification.type, 'notification');
});

test('sendMessage returns true, fires portico:sent with the frame, and the frame reaches other clients', async () => {
  const result = await page.evaluate(() => (globalThis as any).client.sendMessage('chat', 'from the page', { priority: 'high' }));
  assert.equal(result, true);
  const sent = await waitForEvent('sent', "d.message === 'from the page'");
  assert.deepEqual(Object.keys(sent), ['type', 'message', 'priority', 'timestamp']);
  const got = await peer.next((m) => m.type === 'chat' && m.message === 'from the page', 10_000);
  assert.equal(got.priority, 'high');
  assert.equal(got.timestamp, sent.timestamp);
});

test('getPartialApplications() resolves with the response data; portico:partial_applications and portico:message fire too', async () => {
  const data = await page.evaluate(() => (globalThis as any).client.getPartialApplications());
  assert.deepEqual(data, { error: true, status: 'error', message: TEXTS.databaseNotConnected });
  const detail = await waitForEvent('partial_applications', 'd.isServerPush === false');
  assert.deepEqual(detail, { ...data, isServerPush: false });
  const message = await waitForEvent('message', "d.type === 'partial_applications_response'");
  assert.deepEqual(message.data, data);
});

test('a server push arrives as portico:partial_applications with isServerPush, not as portico:message', async () => {
  await gw.gateway.ingress.handle('session_messages', { type: 'update_partial_applications', sessionId: SESSION }, 'spool');
  const detail = await waitForEvent('partial_applications', 'd.isServerPush === true');
  assert.equal(detail.source, 'server_push');
  assert.equal(detail.message, TEXTS.databaseNotConnected);
  const messages = await events('message');
  assert.equal(messages.filter((m) => m.type === 'partial_applications_response').length, 1, 'only the requested one');
});

test('subscribe() joins the entity room: confirmation and entity deliveries reach the page', async () => {
  assert.equal(await page.evaluate(() => (globalThis as any).client.subscribe('resource', 42)), true);
  const confirmation = await waitForEvent('message', "d.type === 'subscription_confirmation'");
  assert.equal(confirmation.roomId, 'entity_resource_42');
  assert.equal(confirmation.status, 'subscribed');
  await gw.gateway.ingress.handle('notifications', { target: 'entity', entityType: 'resource', entityId: 42, type: 'booking_update', message: 'changed' }, 'spool');
  const delivered = await waitForEvent('message', "d.type === 'booking_update'");
  assert.equal(delivered.roomId, 'entity_resource_42');
});

test('server_ping is answered with pong (reply_to its id) and room_ping with room_ping_response', async () => {
  const ping = (await page.waitForFunction(() => (globalThis as any).__in.find((m: Msg) => m.type === 'server_ping'), null, WAIT).then((h) => h.jsonValue())) as Msg;
  const pong = (await page.waitForFunction((id) => (globalThis as any).__out.find((m: Msg) => m.type === 'pong' && m.reply_to === id), ping.id, WAIT).then((h) => h.jsonValue())) as Msg;
  assert.equal(pong.reply_to, ping.id);
  const roomPing = await waitForEvent('message', "d.type === 'room_ping'");
  assert.equal(roomPing.roomId, 'entity_resource_42');
  const answer = (await page.waitForFunction((p) => (globalThis as any).__out.find((m: Msg) => m.type === 'room_ping_response' && m.pingId === p), roomPing.pingId, WAIT).then((h) => h.jsonValue())) as Msg;
  assert.equal(answer.roomId, 'entity_resource_42');
  // server_ping and pong never were page events.
  assert.equal((await events('message')).filter((m) => m.type === 'server_ping' || m.type === 'pong').length, 0);
});

test('close() ends it: portico:disconnected without reconnect, status Disconnected, CLOSED, and the gateway sees the client leave', async () => {
  await page.evaluate(() => (globalThis as any).client.close());
  const detail = await waitForEvent('disconnected');
  assert.equal(detail.willReconnect, false);
  assert.equal(detail.code, 1000);
  assert.equal(await page.textContent('#connection-status'), 'Disconnected');
  assert.equal(await page.evaluate(() => (globalThis as any).client.getStatus()), 'CLOSED');
  const deadline = Date.now() + 10_000;
  while (gw.gateway.connections.size !== 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(gw.gateway.connections.size, 1, 'only the peer is left');
  assert.equal((await events('reconnecting')).length, 0);
  assert.deepEqual(errors, []);
});
