/**
 * Cross-site WebSocket hijacking in a real browser: a page served from another local port (another
 * origin) opens the gateway's URL with the visitor's cookie in the jar and is refused; the
 * gateway's own test page, same origin, connects.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { Browser, BrowserContext } from 'playwright-core';
import { createMetrics } from '../../src/server/metrics.js';
import { sessionRoomId } from '../../src/server/session.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { sample, scrape } from '../helpers/prometheus.js';
import { buildClientAssets, launchChromium, WAIT } from './browser.js';

const VICTIM_SESSION = 'victimSessionE2E000001';

let browser: Browser;
let context: BrowserContext;
let gw: TestGateway;
let evil: http.Server;
let evilUrl: string;

/** The attacker's page: open the gateway's WebSocket and record what happens. */
const evilPage = (wsUrl: string) => `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head><body><script>
  window.__result = new Promise((resolve) => {
    const got = [];
    const ws = new WebSocket(${JSON.stringify(wsUrl)});
    ws.onmessage = (e) => got.push(e.data);
    ws.onopen = () => setTimeout(() => resolve({ opened: true, got }), 500);
    ws.onclose = (e) => resolve({ opened: false, code: e.code, got });
  });
</script></body></html>`;

before(async () => {
  gw = await startTestGateway({}, { clientAssetsDir: buildClientAssets(), observer: createMetrics() });
  evil = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(evilPage(gw.url));
  });
  await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', () => resolve()));
  evilUrl = `http://127.0.0.1:${(evil.address() as AddressInfo).port}/`;
  browser = await launchChromium();
  context = await browser.newContext();
  // The visitor is logged in at the gateway's site: its session cookie is in the browser.
  await context.addCookies([{ name: 'bookingfrontendsession', value: VICTIM_SESSION, url: gw.httpUrl }]);
});

after(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (evil ? evil.close(() => resolve()) : resolve()));
  await gw?.close();
});

test('a page from another local port is refused: no open, no message, nobody in the victim\'s session room', async () => {
  const page = await context.newPage();
  await page.goto(evilUrl);
  const result = await page.evaluate(() => (globalThis as any).__result) as { opened: boolean; code?: number; got: string[] };
  assert.equal(result.opened, false, 'the WebSocket never opened');
  assert.deepEqual(result.got, [], 'not one frame reached the page');
  assert.equal(gw.gateway.rooms.has(sessionRoomId(VICTIM_SESSION)), false);
  assert.equal(sample(await scrape(gw.httpUrl), 'portico_ws_connections_refused_total', { reason: 'origin' }), 1);
  await page.close();
});

test('the gateway\'s own test page, same origin, connects with the visitor\'s session', async () => {
  const page = await context.newPage();
  await page.goto(`${gw.httpUrl}/websocket-test`);
  await page.waitForFunction(() => (globalThis as any).document.getElementById('connection-status')?.textContent === 'Connected', null, WAIT);
  assert.equal(gw.gateway.rooms.has(sessionRoomId(VICTIM_SESSION)), true, 'the same-origin page got its session room');
  assert.equal(sample(await scrape(gw.httpUrl), 'portico_ws_connections_refused_total', { reason: 'origin' }), 1, 'no further refusal');
  await page.close();
});
