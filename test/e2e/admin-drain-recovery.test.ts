/**
 * Drain for a rolling deploy, with our browser client: the page reaches gateway B (a child
 * process) through a TCP proxy standing in for the load balancer. The proxy's new connections go
 * to A from now on; B is drained from the admin API; the client, closed with 1012, reconnects
 * (through the proxy, to A) and recovers what was published meanwhile: `recovered: true`, every
 * message once and in order.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { Redis } from 'ioredis';
import { ADMIN_TOKEN, startAdminCluster, type AdminCluster } from '../helpers/admin-cluster.js';
import { startTcpProxy, type TcpProxy } from '../helpers/cuttable-proxy.js';
import { rawPublisher } from '../helpers/redis-gateway.js';
import { buildClientAssets, launchChromium, openGatewayPage, WAIT, watchErrors } from './browser.js';

const HOST_PAGE = `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head><body>
<script>
  window.__events = [];
  for (const name of ['connected', 'disconnected', 'recovered']) {
    window.addEventListener('portico:' + name, (e) => window.__events.push({ name, detail: e.detail }));
  }
  window.__seqs = [];
</script>
<script src="/client.js"></script>
<script>
  window.client = createWebSocketClient(null, { backoff: { baseMs: 100, maxMs: 300 }, detectUserId: false });
  client.on('receive', (m) => { if (typeof m.seq === 'number') window.__seqs.push(m.seq); });
  client.subscribe('resource', 42);
</script></body></html>`;

let cluster: AdminCluster;
let proxy: TcpProxy;
let browser: Browser;
let page: Page;
let php: Redis;
let errors: string[];
let seq = 0;

const publish = () => php.publish('room_messages', JSON.stringify({ type: 'room_message', roomId: 'entity_resource_42', action: 'updated', seq: ++seq }));
const eventCount = (name: string) => page.evaluate((n) => (globalThis as any).__events.filter((e: { name: string }) => e.name === n).length, name);
const waitEvents = (name: string, count: number) =>
  page.waitForFunction(([n, c]) => (globalThis as any).__events.filter((e: { name: string }) => e.name === n).length >= c, [name, count] as const, WAIT);
const waitSeqs = (n: number) => page.waitForFunction((c) => (globalThis as any).__seqs.length >= c, n, WAIT);

before(async () => {
  const clientAssetsDir = buildClientAssets();
  cluster = await startAdminCluster(clientAssetsDir);
  php = rawPublisher(cluster.server);
  proxy = await startTcpProxy(Number(new URL(cluster.b.httpUrl).port));
  browser = await launchChromium();
  page = await browser.newPage();
  await page.route('**/client.js', (route) => route.fulfill({ path: path.join(clientAssetsDir, 'portico-client.min.js'), contentType: 'application/javascript' }));
  errors = watchErrors(page);
  await openGatewayPage(page, `http://127.0.0.1:${proxy.port}`, HOST_PAGE);
  await waitEvents('connected', 1);
}, { timeout: 60_000 });

after(async () => {
  await browser?.close();
  await proxy?.close();
  php?.disconnect();
  await cluster?.stop();
});

test('drained B: the browser client reconnects to A and recovers what was published meanwhile', async () => {
  // Subscribed on B (the subscribe confirmation comes after the greeting): a first message gives the stream a position.
  await page.waitForFunction(() => Object.keys((globalThis as any).client.getStreamPositions()).includes('entity_resource_42'), undefined, WAIT);
  await publish();
  await waitSeqs(1);

  proxy.restore(Number(new URL(cluster.a.httpUrl).port)); // the load balancer now sends new connections to A
  const disconnects = await eventCount('disconnected');
  const exited = new Promise<number | null>((resolve) => cluster.b.child.once('exit', (code) => resolve(code)));
  const res = await fetch(`${cluster.a.httpUrl}/admin/api/drain`, {
    method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ instance: 'gw-b' }),
  });
  assert.equal(res.status, 202);
  await waitEvents('disconnected', disconnects + 1);
  for (let i = 0; i < 5; i++) await publish(); // while the page is between B and A
  await waitEvents('recovered', 1);
  const recovered = await page.evaluate(() => (globalThis as any).__events.find((e: { name: string }) => e.name === 'recovered').detail);
  assert.equal(recovered.recovered, true, JSON.stringify(recovered));
  await waitSeqs(6);
  assert.deepEqual(await page.evaluate(() => (globalThis as any).__seqs), [1, 2, 3, 4, 5, 6], 'every message once, in order');
  const closeCode = await page.evaluate(() => (globalThis as any).__events.filter((e: { name: string }) => e.name === 'disconnected').at(-1).detail?.code);
  assert.equal(closeCode, 1012);
  assert.equal(await exited, 0);
  assert.deepEqual(errors, []);
});
