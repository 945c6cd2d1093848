/**
 * The deploy/ snippets keep the origin policy working: real nginx and real Apache, configured
 * from deploy/nginx and deploy/apache, in front of a gateway with default settings. Chromium
 * loads the test page through each proxy and connects same-origin (the proxy forwards the host
 * the browser addressed); a page on another port, through the same proxy, is refused.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { createMetrics } from '../../src/server/metrics.js';
import { sessionRoomId } from '../../src/server/session.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { sample, scrape } from '../helpers/prometheus.js';
import { startApache, startNginx, type RunningProxy } from '../helpers/proxies.js';
import { buildClientAssets, launchChromium, WAIT } from './browser.js';

let browser: Browser;
let gw: TestGateway;
let foreign: http.Server;
let foreignUrl: string;
const proxies: RunningProxy[] = [];

before(async () => {
  gw = await startTestGateway({}, { clientAssetsDir: buildClientAssets(), observer: createMetrics() });
  proxies.push(await startNginx(gw.port));
  proxies.push(await startApache(gw.port));
  foreign = http.createServer((req, res) => {
    const target = new URL(req.url ?? '/', 'http://x').searchParams.get('ws') ?? '';
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><html><head><link rel="icon" href="data:,"></head><body><script>
      window.__result = new Promise((resolve) => {
        const ws = new WebSocket(${'`'}\${${JSON.stringify(target)}}${'`'});
        ws.onopen = () => resolve('open');
        ws.onclose = () => resolve('closed');
      });
    </script></body></html>`);
  });
  await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', () => resolve()));
  foreignUrl = `http://127.0.0.1:${(foreign.address() as AddressInfo).port}/`;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  for (const p of proxies) await p.stop();
  await new Promise<void>((resolve) => (foreign ? foreign.close(() => resolve()) : resolve()));
  await gw?.close();
});

for (const name of ['nginx', 'apache']) {
  test(`${name} (deploy/${name}): the test page through the proxy connects same-origin; another origin through it is refused`, async () => {
    const proxy = proxies.find((p) => p.name === name)!;
    const context = await browser.newContext();
    const session = `${name}ProxySession01`;
    await context.addCookies([{ name: 'bookingfrontendsession', value: session, url: proxy.url }]);
    const page = await context.newPage();
    await page.goto(`${proxy.url}/wss/websocket-test`);
    await page.waitForFunction(() => (globalThis as any).document.getElementById('connection-status')?.textContent === 'Connected', null, WAIT);
    assert.equal(gw.gateway.rooms.has(sessionRoomId(session)), true, 'connected through the proxy with its session');
    const conn = [...gw.gateway.connections].find((c) => c.sessionId === session)!;
    assert.equal(conn.remoteAddress, '127.0.0.1', 'the client address is the one the proxy forwarded (the browser here)');

    const refusedBefore = sample(await scrape(gw.httpUrl), 'portico_ws_connections_refused_total', { reason: 'origin' }) ?? 0;
    const evil = await context.newPage();
    await evil.goto(`${foreignUrl}?ws=${encodeURIComponent(`ws://127.0.0.1:${proxy.port}/wss`)}`);
    assert.equal(await evil.evaluate(() => (globalThis as any).__result), 'closed');
    assert.equal(sample(await scrape(gw.httpUrl), 'portico_ws_connections_refused_total', { reason: 'origin' }), refusedBefore + 1);
    await context.close();
  });
}
