/**
 * The admin page (/admin) in headless Chromium against two real gateways and Redis: it loads
 * with `#token=`, lists both instances with live client counts that change as clients connect,
 * stays usable at 390 px, refuses a wrong token, and its Drain button moves B's clients to A.
 * Writes the README's screenshot, docs/admin.png.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ADMIN_TOKEN, startAdminCluster, type AdminCluster } from '../helpers/admin-cluster.js';
import { TestClient } from '../helpers/ws-client.js';
import { buildClientAssets, launchChromium, WAIT, watchErrors } from './browser.js';

const SCREENSHOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs/admin.png');

let browser: Browser;
let cluster: AdminCluster;
const clients: TestClient[] = [];

const clientsShown = (page: Page, id: string, n: number) => page.waitForFunction(([i, v]) =>
  (globalThis as any).document.querySelector(`[data-clients="${i}"]`)?.textContent === v, [id, String(n)] as const, WAIT)
  .catch(async (err: Error) => { throw new Error(`${id} never showed ${n} clients (shows ${await page.textContent(`[data-clients="${id}"]`)}): ${err.message}`); });

before(async () => {
  cluster = await startAdminCluster(buildClientAssets());
  browser = await launchChromium();
});

after(async () => {
  for (const c of clients) c.close();
  await browser?.close();
  await cluster?.stop();
});

test('1280 px: loads with #token=, shows both instances and live counts that change as clients connect', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = watchErrors(page);
  await page.goto(`${cluster.a.httpUrl}/admin#token=${ADMIN_TOKEN}`);
  await page.waitForSelector('[data-instance="gw-a"]', WAIT);
  await page.waitForSelector('[data-instance="gw-b"]', WAIT);
  assert.equal(new URL(page.url()).hash, '', 'the token left the address bar');
  assert.equal(await page.evaluate(() => (globalThis as any).sessionStorage.getItem('portico-ws-admin-token')), ADMIN_TOKEN);
  await clientsShown(page, 'gw-b', 0);

  clients.push(await TestClient.connect(cluster.b.url, { cookie: 'PHPSESSID=admin-page-session-00000001' }), await TestClient.connect(cluster.b.url));
  clients.push(await TestClient.connect(cluster.a.url));
  await clientsShown(page, 'gw-b', 2);
  await clientsShown(page, 'gw-a', 1);
  assert.match((await page.textContent('#total-clients')) ?? '', /^3/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('390 px: the same page fits the width and shows both instances', async () => {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  const errors = watchErrors(page);
  await page.goto(`${cluster.b.httpUrl}/admin#token=${ADMIN_TOKEN}`);
  await clientsShown(page, 'gw-b', 2);
  await clientsShown(page, 'gw-a', 1);
  const overflow = await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth);
  assert.ok(overflow <= 390, `no sideways scrolling (${overflow} px wide)`);
  const card = await page.locator('[data-instance="gw-a"]').boundingBox();
  assert.ok(card && card.width <= 390 && card.x >= 0, 'an instance card fits the screen');
  assert.deepEqual(errors, []);
  await page.close();
});

test('a wrong token shows the token form again, and the right one typed there opens the view', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${cluster.a.httpUrl}/admin#token=wrong`);
  await page.waitForSelector('#login:not([hidden])', WAIT);
  assert.match((await page.textContent('#login-error')) ?? '', /refused/);
  await page.fill('#token', ADMIN_TOKEN);
  await page.click('#login button[type=submit]');
  await page.waitForSelector('[data-instance="gw-b"]', WAIT);
  await page.close();
});

test('screenshot for the README: traffic, rooms and a warning on both instances', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${cluster.a.httpUrl}/admin#token=${ADMIN_TOKEN}`);
  await page.waitForSelector('[data-instance="gw-b"]', WAIT);
  for (let i = 0; i < 6; i++) clients.push(await TestClient.connect(i % 2 ? cluster.a.url : cluster.b.url, { cookie: `PHPSESSID=admin-shot-session-${i}0000000` }));
  for (const [i, c] of clients.entries()) {
    c.send({ type: 'subscribe', entityType: i % 3 ? 'resource' : 'application', entityId: 10 + (i % 4) });
    await c.ofType('subscription_confirmation');
  }
  await fetch(`${cluster.b.httpUrl}/admin/api/cluster`, { headers: { authorization: 'Bearer not-the-token' } }); // one warning to list
  // Three samples' worth of chat and notifications, so the charts have a shape.
  const until = Date.now() + 16_000;
  let n = 0;
  while (Date.now() < until) {
    const c = clients[n++ % clients.length]!;
    c.send({ type: 'room_message', roomId: 'entity_resource_11', message: `hello ${n}` });
    if (n % 4 === 0) c.send({ type: 'chat', message: `chat ${n}` });
    if (n % 25 === 0) c.send({ type: 'server_ping' }); // a type only the server sends: dropped, counted as forbidden
    await new Promise((r) => setTimeout(r, 40 + (n % 7) * 15)); // pacing the traffic, not waiting for a state
  }
  await page.waitForFunction(() => (globalThis as any).document.querySelectorAll('#chart-messages polyline').length === 2, undefined, WAIT);
  await page.waitForFunction(() => (globalThis as any).document.querySelectorAll('#logs li .lvl').length > 0, undefined, WAIT);
  await page.waitForFunction(() => (globalThis as any).document.querySelectorAll('#rooms tbody tr').length >= 4, undefined, WAIT);
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  await page.close();
});

test('Drain on B (confirmed in the page): B\'s clients get 1012, reconnect to A, and the page shows them there', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = watchErrors(page);
  const dialogs: string[] = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); void d.accept(); });
  await page.goto(`${cluster.a.httpUrl}/admin#token=${ADMIN_TOKEN}`);
  await page.waitForSelector('[data-instance="gw-b"]', WAIT);
  const onB = (await Promise.all(clients.map(async (c) => ((c.ws as any).url as string).startsWith(cluster.b.url) ? c : null))).filter((c): c is TestClient => c !== null);
  const onA = clients.length - onB.length;
  assert.ok(onB.length >= 2);
  await clientsShown(page, 'gw-a', onA);

  const exited = new Promise<number | null>((resolve) => cluster.b.child.once('exit', (code) => resolve(code)));
  await page.click('[data-instance="gw-b"] button');
  for (const c of onB) {
    assert.equal(await c.waitClosed(), 1012);
    clients.push(await TestClient.connect(cluster.a.url)); // what a client behind a load balancer does on 1012
  }
  assert.equal(await exited, 0);
  await clientsShown(page, 'gw-a', onA + onB.length);
  await page.waitForFunction(() => (globalThis as any).document.querySelector('[data-instance="gw-b"] .pill')?.textContent === 'not answering', undefined, WAIT)
    .catch(async (err: Error) => { throw new Error(`B shows ${await page.textContent('[data-instance="gw-b"] .pill')}: ${err.message}`); });
  assert.match(dialogs[0] ?? '', /^Drain gw-b\?/);
  assert.deepEqual(errors, []);
  await page.close();
});
