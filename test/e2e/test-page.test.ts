/**
 * The /websocket-test page in headless Chromium at desktop (1280 px) and phone (390 px) width:
 * connect/disconnect, status, the connection count, every kind of send (chat, notification,
 * room_message, session_message, entity_event) reaching other clients, empty input refused,
 * identity, subscription, partial applications, log filter, and a layout that fits the screen.
 * Screenshots: PORTICO_WS_SCREENSHOT=/path/prefix keeps them (prefix-1280.png, prefix-390.png).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { TEXTS } from '../../src/protocol/constants.js';
import { startTestGateway, tempDir, type TestGateway } from '../helpers/gateway.js';
import { waitFor } from '../helpers/wait.js';
import { TestClient } from '../helpers/ws-client.js';
import { buildClientAssets, launchChromium, WAIT, watchErrors } from './browser.js';

let browser: Browser;
let gw: TestGateway;
let page: Page;
let errors: string[];
let peer: TestClient;
const shots = process.env.PORTICO_WS_SCREENSHOT ?? path.join(tempDir('portico-ws-shot-'), 'websocket-test');

const waitText = (p: Page, id: string, text: string) =>
  p.waitForFunction(([i, t]) => (globalThis as any).document.getElementById(i)?.textContent === t, [id, text] as const, WAIT);
const waitStatus = (text: string, p = page) => waitText(p, 'connection-status', text);
const logHas = (type: string, text: string) => page.waitForFunction(([ty, tx]) =>
  [...(globalThis as any).document.querySelectorAll(`#log li[data-type="${ty}"]`)].some((li) => li.textContent?.includes(tx)), [type, text] as const, WAIT);

/** Choose the send type, fill the message and press Send. */
async function send(type: string, text: string, p = page): Promise<void> {
  await p.selectOption('#send-type', type);
  await p.fill('#message-input', text);
  await p.click('#send-btn');
}

/**
 * Open the test page at `width`. The page's periodic /health poll (every 3 s) is switched off, so
 * the connection count it shows must come from its own connect/disconnect events.
 */
async function openPage(width: number): Promise<Page> {
  const p = await browser.newPage({ viewport: { width, height: width > 600 ? 860 : 844 } });
  await p.addInitScript(() => {
    const original = (globalThis as any).setInterval;
    (globalThis as any).setInterval = (fn: () => void, ms?: number, ...args: unknown[]) => (ms === 3000 ? 0 : original(fn, ms, ...args));
  });
  // Behind the proxy path, so the page loads /wss/client.js and polls /wss/health.
  await p.goto(`${gw.httpUrl}/wss/websocket-test`);
  return p;
}

/** Nothing wider than the viewport: no sideways scrolling, every visible control fully on screen. */
async function assertFits(p: Page, width: number): Promise<void> {
  const layout = await p.evaluate(() => {
    const doc = (globalThis as any).document;
    const cut = [...doc.querySelectorAll('input, select, button, label, h1, h2, .pill, .metric, #log li')]
      .map((el: any) => ({ id: el.id || el.textContent?.trim().slice(0, 20), box: el.getBoundingClientRect() }))
      .filter(({ box }: any) => box.width > 0 && (box.left < 0 || box.right > doc.documentElement.clientWidth + 0.5))
      .map(({ id, box }: any) => `${id} (${Math.round(box.left)}..${Math.round(box.right)})`);
    return { scrollWidth: doc.documentElement.scrollWidth, clientWidth: doc.documentElement.clientWidth, cut };
  });
  assert.equal(layout.clientWidth, width);
  assert.ok(layout.scrollWidth <= width, `page is ${layout.scrollWidth} px wide at ${width} px: it scrolls sideways`);
  assert.deepEqual(layout.cut, [], `controls cut off at ${width} px`);
}

before(async () => {
  gw = await startTestGateway({}, { clientAssetsDir: buildClientAssets() });
  browser = await launchChromium();
  peer = await TestClient.connect(gw.url);
  page = await openPage(1280);
  errors = watchErrors(page);
});

after(async () => {
  peer?.close();
  await browser?.close();
  await gw?.close();
});

test('connects on load, shows Connected and at once the connection count that includes itself', async () => {
  await waitStatus('Connected');
  assert.equal(await page.getAttribute('#connection-status', 'data-state'), 'connected');
  // The periodic poll is off (openPage): only the page's own connect can bring the count to 2.
  await waitText(page, 'health-clients', '2');
  assert.equal(await page.isDisabled('#connect-btn'), true);
  assert.match((await page.textContent('#ws-url')) ?? '', /^ws:\/\/127\.0\.0\.1:\d+\/wss$/);
});

test('a chat reaches another client, and another client\'s chat shows in the log', async () => {
  await send('chat', 'hello from the page');
  const got = await peer.next((m) => m.type === 'chat' && m.message === 'hello from the page', 10_000);
  assert.equal(got.source, 'client');
  assert.equal(await page.inputValue('#message-input'), '', 'the field is cleared after sending');
  await logHas('chat', 'hello from the page');

  peer.send({ type: 'chat', message: 'hello from node' });
  await logHas('chat', 'hello from node');
  const incoming = await page.$$eval('#log li[data-type="chat"][data-direction="in"]', (lis) => lis.map((li) => li.textContent ?? ''));
  assert.equal(incoming.filter((t) => t.includes('hello from node')).length, 1);
});

test('an empty message box sends nothing and says so', async () => {
  await send('chat', '   ');
  await waitText(page, 'send-hint', 'Type a message first');
  assert.equal(await page.getAttribute('#message-input', 'aria-invalid'), 'true');
  await send('chat', 'after the empty one');
  // Frames arrive in order: had the empty attempt sent anything, the peer would get it first.
  const next = await peer.next((m) => m.type === 'chat', 10_000);
  assert.equal(next.message, 'after the empty one');
  assert.equal(await page.getAttribute('#message-input', 'aria-invalid'), null, 'the mark goes once a message is sent');
});

test('a notification is sent to everyone, the sender included', async () => {
  await send('notification', 'attention all');
  await peer.next((m) => m.type === 'notification' && m.message === 'attention all', 10_000);
  await page.waitForFunction(() => (globalThis as any).document.querySelectorAll('#log li[data-type="notification"]').length >= 2, null, WAIT);
});

test('user id, session id, subscription and partial applications from the forms', async () => {
  await page.fill('#user-id-input', '42');
  await page.click('#user-id-btn');
  await logHas('user_info_update_confirmation', '42');
  await page.fill('#session-id-input', 'testPageSession1');
  await page.click('#session-id-btn');
  await logHas('session_update_confirmation', 'Session ID set');

  await page.fill('#entity-type-input', 'resource');
  await page.fill('#entity-id-input', '42');
  await page.click('#subscribe-btn');
  await logHas('subscription_confirmation', 'entity_resource_42');
  assert.equal(await page.textContent('#subscriptions'), 'resource #42');
  await gw.gateway.ingress.handle('notifications', { target: 'entity', entityType: 'resource', entityId: 42, type: 'booking_update', message: 'Resource 42 booked' }, 'spool');
  await logHas('booking_update', 'Resource 42 booked');

  await page.click('#partials-btn');
  await waitText(page, 'partials-summary', `Error: ${TEXTS.databaseNotConnected}`);
});

test('room_message, session_message and entity_event reach the members they are meant for', async () => {
  peer.send({ type: 'subscribe', entityType: 'resource', entityId: 42 });
  await peer.ofType('subscription_confirmation');
  const tab = await TestClient.connect(gw.url, { cookie: 'PHPSESSID=testPageSession1' });
  try {
    await page.selectOption('#send-type', 'room_message');
    assert.equal(await page.inputValue('#room-id-input'), 'entity_resource_42', 'a joined room is offered');
    await page.fill('#message-input', 'to the room');
    await page.click('#send-btn');
    const roomMessage = await peer.next((m) => m.type === 'room_message' && m.message === 'to the room', 10_000);
    assert.equal(roomMessage.roomId, 'entity_resource_42');

    await page.fill('#room-id-input', 'entity_resource_999');
    await page.fill('#message-input', 'not a member');
    await page.click('#send-btn');
    await waitText(page, 'send-hint', `ROOM_ACCESS_DENIED: ${TEXTS.roomAccessDenied}`);

    await send('session_message', 'to my other tabs');
    const sessionMessage = await tab.next((m) => m.message === 'to my other tabs', 10_000);
    assert.equal(sessionMessage.type, 'room_message');

    await page.selectOption('#send-type', 'entity_event');
    await page.fill('#event-type-input', 'resource');
    await page.fill('#event-id-input', '');
    await page.fill('#message-input', 'no id yet');
    await page.click('#send-btn');
    await waitText(page, 'send-hint', 'Enter the entity id');
    await page.fill('#event-id-input', '42');
    await page.click('#send-btn');
    const event = await peer.next((m) => m.type === 'entity_event', 10_000);
    assert.deepEqual([event.entityType, event.entityId, event.message], ['resource', 42, 'no id yet']);
  } finally {
    tab.close();
  }
});

test('the log filters by text and direction', async () => {
  await page.fill('#log-filter', 'hello from node');
  const shown = await page.$$eval('#log li', (lis) => lis.map((li) => li.getAttribute('data-type')));
  assert.deepEqual(shown, ['chat']);
  await page.fill('#log-filter', '');
  await page.selectOption('#log-direction', 'out');
  const directions = await page.$$eval('#log li', (lis) => [...new Set(lis.map((li) => li.getAttribute('data-direction')))]);
  assert.deepEqual(directions, ['out']);
  await page.selectOption('#log-direction', 'all');
  assert.equal(Number(await page.textContent('#log-count')), await page.$$eval('#log li', (lis) => lis.length));
});

test('disconnect and connect again with the same client', async () => {
  const confirmations = () => page.$$eval('#log li[data-type="subscription_confirmation"]', (lis) => lis.length);
  const before = await confirmations();
  await page.click('#disconnect-btn');
  await waitStatus('Disconnected');
  assert.equal(await page.isDisabled('#send-btn'), true);
  await page.click('#connect-btn');
  await waitStatus('Connected');
  assert.equal(await page.isDisabled('#send-btn'), false);
  // The subscription is restored on the new connection.
  await page.waitForFunction((n) => (globalThis as any).document.querySelectorAll('#log li[data-type="subscription_confirmation"]').length > n, before, WAIT);
  await send('chat', 'back again');
  await peer.next((m) => m.type === 'chat' && m.message === 'back again', 10_000);
});

test('at 1280 px the page fits the screen', async () => {
  await assertFits(page, 1280);
  await page.screenshot({ path: `${shots}-1280.png`, fullPage: true });
  assert.deepEqual(errors, []);
});

test('at phone width (390 px) nothing scrolls sideways or is cut, and the page works', async () => {
  // Connections closed by earlier tests are gone: the phone's own count is then exactly 3.
  await waitFor(() => gw.gateway.connections.size === 2, 'the desktop page and the peer as the only connections');
  const phone = await openPage(390);
  const phoneErrors = watchErrors(phone);
  try {
    await waitStatus('Connected', phone);
    await waitText(phone, 'health-clients', '3');
    await send('chat', 'from a phone', phone);
    await peer.next((m) => m.type === 'chat' && m.message === 'from a phone', 10_000);
    await phone.selectOption('#send-type', 'entity_event');
    await assertFits(phone, 390);
    await phone.screenshot({ path: `${shots}-390.png`, fullPage: true });
    assert.deepEqual(phoneErrors, []);
  } finally {
    await phone.close();
  }
});
