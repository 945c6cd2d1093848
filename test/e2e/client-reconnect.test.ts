/**
 * Gateway restarts on the same port: the one client object reconnects by itself, fires exactly one
 * portico:connected per reconnect, and restores session, user id and entity subscriptions, so
 * deliveries to the entity room and to the session reach the page again without the page doing anything.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { quietWindow } from '../helpers/wait.js';
import { buildClientAssets, launchChromium, openGatewayPage, WAIT, watchErrors } from './browser.js';

const PAGE_SESSION = 'pageSetSession42';
const HOST_PAGE = `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head><body>
<span id="connection-status"></span>
<script>
  window.__events = [];
  for (const name of ['connected', 'reconnecting', 'disconnected', 'message', 'user_info_updated']) {
    window.addEventListener('portico:' + name, (e) => window.__events.push({ name, detail: e.detail }));
  }
</script>
<script src="/client.js"></script>
<script>window.client = createWebSocketClient(null, { backoff: { baseMs: 100, maxMs: 400 } });</script>
</body></html>`;

type Recorded = { name: string; detail: any };

let browser: Browser;
let page: Page;
let gw: TestGateway;
let clientAssetsDir: string;

const count = (name: string, type?: string): Promise<number> => page.evaluate(([n, t]) =>
  (globalThis as any).__events.filter((e: Recorded) => e.name === n && (!t || e.detail?.type === t)).length, [name, type] as const);

const waitCount = (name: string, atLeast: number, type?: string) => page.waitForFunction(([n, c, t]) =>
  (globalThis as any).__events.filter((e: Recorded) => e.name === n && (!t || e.detail?.type === t)).length >= c, [name, atLeast, type] as const, WAIT);

before(async () => {
  clientAssetsDir = buildClientAssets();
  gw = await startTestGateway({}, { clientAssetsDir });
  browser = await launchChromium();
  page = await browser.newPage();
  await openGatewayPage(page, gw.httpUrl, HOST_PAGE);
  await waitCount('connected', 1);
  await page.evaluate((s) => {
    const c = (globalThis as any).client;
    c.updateSession(s);
    c.updateUserInfo(31);
    c.subscribe('resource', 42);
  }, PAGE_SESSION);
  await waitCount('message', 1, 'subscription_confirmation');
  await waitCount('user_info_updated', 1);
});

after(async () => {
  await browser?.close();
  await gw?.close();
});

for (const round of [1, 2]) {
  test(`restart ${round}: reconnects, one portico:connected, and the restored subscriptions and session receive deliveries`, async () => {
    const errors = watchErrors(page);
    const port = gw.port;
    const connectedBefore = await count('connected');
    const confirmationsBefore = await count('message', 'subscription_confirmation');
    const userInfoBefore = await count('user_info_updated');

    await gw.close();
    await waitCount('disconnected', round);
    const lost = await page.evaluate(() => (globalThis as any).__events.filter((e: Recorded) => e.name === 'disconnected').at(-1).detail);
    assert.equal(lost.willReconnect, true);
    assert.equal(lost.code, 1001, 'the gateway said it was going away');
    await page.waitForFunction(() => (globalThis as any).document.getElementById('connection-status')?.textContent === 'Reconnecting…', null, WAIT);
    await page.waitForFunction(() => (globalThis as any).__events.filter((e: Recorded) => e.name === 'reconnecting').length >= 2, null, WAIT);
    assert.equal(await page.evaluate(() => (globalThis as any).client.getStatus()), 'CONNECTING');

    gw = await startTestGateway({ port }, { clientAssetsDir });
    await waitCount('connected', connectedBefore + 1);
    await page.waitForFunction(() => (globalThis as any).document.getElementById('connection-status')?.textContent === 'Connected', null, WAIT);
    await waitCount('message', confirmationsBefore + 1, 'subscription_confirmation');
    await waitCount('user_info_updated', userInfoBefore + 1);

    // Deliveries through the new gateway reach the page: the entity room and the page-set session room.
    await gw.gateway.ingress.handle('notifications', { target: 'entity', entityType: 'resource', entityId: 42, type: 'booking_update', round }, 'spool');
    await gw.gateway.ingress.handle('room_messages', { type: 'room_message', roomId: 'entity_resource_42', action: 'updated', round }, 'spool');
    await gw.gateway.ingress.handle('session_messages', { type: 'session_targeted', sessionId: PAGE_SESSION, data: { type: 'session_note', round } }, 'spool');
    for (const type of ['booking_update', 'room_message', 'session_note']) {
      await page.waitForFunction(([t, r]) => (globalThis as any).__events.some((e: Recorded) => e.name === 'message' && e.detail?.type === t && e.detail?.round === r), [type, round] as const, WAIT);
    }
    const [conn] = [...gw.gateway.connections];
    assert.equal(gw.gateway.connections.size, 1);
    assert.equal(conn!.userId, 31, 'user id restored');

    // Exactly one portico:connected for this reconnect: a "nothing else arrived" window for a second one.
    await quietWindow(1000);
    assert.equal(await count('connected'), connectedBefore + 1);
    assert.equal(await page.evaluate(() => (globalThis as any).client === (globalThis as any).porticoWsClient), true, 'still the one client object');
    assert.deepEqual(errors.filter((e) => !e.includes('WebSocket connection to')), [], 'only the expected failed-connection errors while the gateway was down');
  });
}
