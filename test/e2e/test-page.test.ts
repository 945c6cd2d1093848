/** The /websocket-test page in headless Chromium: connect/disconnect, status, chat both ways, identity, subscription, partial applications, log filter. */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { TEXTS } from '../../src/protocol/constants.js';
import { startTestGateway, tempDir, type TestGateway } from '../helpers/gateway.js';
import { TestClient } from '../helpers/ws-client.js';
import { buildClientAssets, launchChromium, WAIT, watchErrors } from './browser.js';

let browser: Browser;
let gw: TestGateway;
let page: Page;
let errors: string[];
let peer: TestClient;

const status = () => page.textContent('#connection-status');
const waitStatus = (text: string) => page.waitForFunction((t) => (globalThis as any).document.getElementById('connection-status')?.textContent === t, text, WAIT);
const logHas = (type: string, text: string) => page.waitForFunction(([ty, tx]) =>
  [...(globalThis as any).document.querySelectorAll(`#log li[data-type="${ty}"]`)].some((li) => li.textContent?.includes(tx)), [type, text] as const, WAIT);

before(async () => {
  gw = await startTestGateway({}, { clientAssetsDir: buildClientAssets() });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  errors = watchErrors(page);
  peer = await TestClient.connect(gw.url);
  // Behind the proxy path, so the page loads /wss/client.js and polls /wss/health.
  await page.goto(`${gw.httpUrl}/wss/websocket-test`);
});

after(async () => {
  peer?.close();
  await browser?.close();
  await gw?.close();
});

test('connects on load, shows Connected and the connection count from /health', async () => {
  await waitStatus('Connected');
  assert.equal(await page.getAttribute('#connection-status', 'data-state'), 'connected');
  await page.waitForFunction(() => (globalThis as any).document.getElementById('health-clients')?.textContent === '2', null, WAIT);
  assert.equal(await page.isDisabled('#connect-btn'), true);
  assert.match((await page.textContent('#ws-url')) ?? '', /^ws:\/\/127\.0\.0\.1:\d+\/wss$/);
});

test('sending a chat reaches another client, and another client\'s chat shows in the log', async () => {
  await page.fill('#message-input', 'hello from the page');
  await page.click('#send-chat-btn');
  const got = await peer.next((m) => m.type === 'chat' && m.message === 'hello from the page', 10_000);
  assert.equal(got.source, 'client');
  assert.equal(await page.inputValue('#message-input'), '', 'the field is cleared after sending');
  await logHas('chat', 'hello from the page');

  peer.send({ type: 'chat', message: 'hello from node' });
  await logHas('chat', 'hello from node');
  const incoming = await page.$$eval('#log li[data-type="chat"][data-direction="in"]', (lis) => lis.map((li) => li.textContent ?? ''));
  assert.equal(incoming.filter((t) => t.includes('hello from node')).length, 1);
});

test('a notification is sent to everyone, the sender included', async () => {
  await page.fill('#message-input', 'attention all');
  await page.click('#send-notification-btn');
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
  await page.waitForFunction((m) => (globalThis as any).document.getElementById('partials-summary')?.textContent === `Error: ${m}`, TEXTS.databaseNotConnected, WAIT);
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
  assert.equal(await page.isDisabled('#send-chat-btn'), true);
  await page.click('#connect-btn');
  await waitStatus('Connected');
  assert.equal(await page.isDisabled('#send-chat-btn'), false);
  // The subscription is restored on the new connection.
  await page.waitForFunction((n) => (globalThis as any).document.querySelectorAll('#log li[data-type="subscription_confirmation"]').length > n, before, WAIT);
  await page.fill('#message-input', 'back again');
  await page.click('#send-chat-btn');
  await peer.next((m) => m.type === 'chat' && m.message === 'back again', 10_000);
  // For a person to look at: PORTICO_WS_SCREENSHOT=/path.png keeps it.
  await page.screenshot({ path: process.env.PORTICO_WS_SCREENSHOT ?? path.join(tempDir('portico-ws-shot-'), 'websocket-test.png'), fullPage: true });
  assert.deepEqual(errors, []);
});
