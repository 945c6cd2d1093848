/**
 * PorticoEstate's Next.js frontend in headless Chromium: a page that loads socket.io-client's
 * browser bundle (from node_modules) and connects the way socketio-context.tsx does (same
 * origin, path /wss/socket.io, polling then websocket, credentials, `message` events both ways,
 * pong to server_ping, reconnect on reconnect_required), against a real gateway, next to a raw
 * WebSocket client in the same rooms.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createMetrics } from '../../src/server/metrics.js';
import { sessionRoomId } from '../../src/server/session.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { sample, scrape } from '../helpers/prometheus.js';
import { waitFor } from '../helpers/wait.js';
import { TestClient } from '../helpers/ws-client.js';
import { launchChromium, openGatewayPage, sessionPage, WAIT } from './browser.js';

const SESSION = 'e2eNextSession0123456789';
// The package's exports hide dist/: find the package folder, then the browser bundle in it.
const BUNDLE = path.join(path.dirname(createRequire(import.meta.url).resolve('socket.io-client/package.json')), 'dist/socket.io.min.js');

/** socketio-context.tsx, reduced to what it does on the wire. */
const PROVIDER = `
  window.__in = []; window.__out = []; window.__connects = 0; window.__subs = [];
  const url = window.location.protocol + '//' + window.location.host;
  const socket = io(url, {
    transports: ['polling', 'websocket'], reconnection: true, reconnectionDelay: 5000,
    reconnectionAttempts: Infinity, withCredentials: true, path: '/wss/socket.io',
  });
  window.socket = socket;
  window.send = (type, message, extra) => {
    const payload = { type, message, ...(extra || {}), timestamp: new Date().toISOString() };
    __out.push(payload);
    socket.emit('message', payload);
  };
  socket.on('connect', () => {
    __connects += 1;
    for (const s of __subs) send('subscribe', 'Subscribing to ' + s.entityType + ' ' + s.entityId, s);
  });
  socket.on('disconnect', (reason) => { if (reason === 'io server disconnect') socket.connect(); });
  socket.on('message', (data) => {
    __in.push(data);
    if (data.type === 'server_ping') send('pong', undefined, { reply_to: data.id || null });
    if (data.type === 'reconnect_required') { socket.disconnect(); socket.connect(); }
  });
`;

let browser: Browser;
let gw: TestGateway;
let page: Page;
let errors: string[];
let peer: TestClient;

/** The first message the page received matching `predicate` (a JS expression over `m`). */
async function received(predicate: string): Promise<any> {
  const handle = await page.waitForFunction((p) => (globalThis as any).__in.find((m: unknown) => new Function('m', `return ${p}`)(m)), predicate, WAIT);
  return handle.jsonValue();
}

before(async () => {
  gw = await startTestGateway({ timers: { serverPingMs: 400 } }, { observer: createMetrics() });
  browser = await launchChromium();
  ({ page, errors } = await sessionPage(browser, gw.httpUrl, SESSION));
  await openGatewayPage(page, gw.httpUrl, '<!doctype html><html><head><meta charset="utf-8"></head><body></body></html>');
  await page.addScriptTag({ path: BUNDLE });
  await page.addScriptTag({ content: PROVIDER });
  peer = await TestClient.connect(gw.url);
});
after(async () => {
  peer?.close();
  await browser?.close();
  await gw?.close();
});

test('the session cookie puts the page in its session room: room_joined, then connection_success; the transport upgrades to websocket', async () => {
  const joined = await received("m.type === 'room_joined'");
  assert.equal(joined.roomId, sessionRoomId(SESSION));
  assert.equal(joined.roomType, 'session');
  const success = await received("m.type === 'connection_success'");
  assert.equal(success.roomId, sessionRoomId(SESSION));
  await page.waitForFunction(() => (globalThis as any).socket.io.engine.transport.name === 'websocket', undefined, WAIT);
  assert.equal(await page.evaluate(() => (globalThis as any).__in.some((m: { type: string }) => m.type === 'session_id_required')), false);
});

test('subscribe, entity events both ways with a raw WebSocket client, server_ping answered with pong', async () => {
  await page.evaluate(() => {
    const sub = { entityType: 'resource', entityId: 12 };
    (globalThis as any).__subs.push(sub);
    (globalThis as any).send('subscribe', 'Subscribing to resource 12', sub);
  });
  assert.equal((await received("m.type === 'room_joined' && m.roomType === 'entity'")).roomId, 'entity_resource_12');
  await received("m.type === 'subscription_confirmation' && m.status === 'subscribed'");
  peer.send({ type: 'subscribe', entityType: 'resource', entityId: 12 });
  await peer.ofType('subscription_confirmation');

  peer.send({ type: 'entity_event', entityType: 'resource', entityId: 12, eventType: 'reservation', data: { slot: 'raw→page' } });
  assert.equal((await received("m.type === 'entity_event'")).data.slot, 'raw→page');
  await page.evaluate(() => (globalThis as any).send('entity_event', 'changed', { entityType: 'resource', entityId: 12, eventType: 'update', data: { slot: 'page→raw' } }));
  assert.equal((await peer.next((m) => m.type === 'entity_event')).data.slot, 'page→raw');

  const ping = await received("m.type === 'server_ping'");
  await page.waitForFunction((id) => (globalThis as any).__out.some((m: { type: string; reply_to?: string }) => m.type === 'pong' && m.reply_to === id), ping.id, WAIT);
  await waitFor(async () => (sample(await scrape(gw.httpUrl), 'portico_ws_messages_in_total', { type: 'pong' }) ?? 0) > 0, 'the pong counted by the gateway');
  assert.equal(await page.evaluate(() => (globalThis as any).__in.filter((m: { type: string }) => m.type === 'error').length), 0, 'pong is not answered with an error');
});

test('update_session, get_partial_applications and an unsupported request', async () => {
  await page.evaluate(() => (globalThis as any).send('update_session', 'Updating session ID', { sessionId: 'e2eNextSession0123456789' }));
  assert.equal((await received("m.type === 'session_update_confirmation'")).action, 'none');
  await page.evaluate(() => (globalThis as any).send('get_partial_applications', 'Requesting partial applications'));
  assert.equal((await received("m.type === 'partial_applications_response'")).data.message, 'Database not connected');
  await page.evaluate(() => (globalThis as any).send('get_free_time', 'Requesting free time', { buildingId: 1, startDate: '2026-12-01', endDate: '2026-12-02' }));
  const refused = await received("m.type === 'error'");
  assert.equal(refused.code, 'UNSUPPORTED_TYPE');
  assert.match(refused.message, /get_free_time/);
  assert.ok(await peer.expectNone((m) => m.type === 'get_free_time'), 'not relayed to anyone');
});

test('reconnect_required: the page reconnects at once and its subscription is back', async () => {
  const conn = [...gw.gateway.connections].find((c) => c.dialect === 'socketio')!;
  conn.send({ type: 'reconnect_required', message: 'test asks the page to reconnect', timestamp: new Date().toISOString() });
  await page.waitForFunction(() => (globalThis as any).__connects === 2, undefined, WAIT);
  await waitFor(() => [...gw.gateway.connections].some((c) => c.dialect === 'socketio' && c !== conn && c.inRoom('entity_resource_12')), 'the new connection back in entity_resource_12');
  peer.send({ type: 'room_message', roomId: 'entity_resource_12', message: 'after the reconnect' });
  await received("m.type === 'room_message' && m.message === 'after the reconnect'");
  assert.deepEqual(errors, []);
});
