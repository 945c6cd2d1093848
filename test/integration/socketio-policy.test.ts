/**
 * The Socket.IO handshake passes the raw endpoint's upgrade policy (allowRequest): a page of
 * another site is refused, on polling and on a direct websocket, before any session room is
 * joined; the gateway's own origin is accepted; Socket.IO sessions count against the
 * per-address cap like raw connections; and the requests after the handshake (polling with the
 * Engine.IO session id, and its websocket upgrade) are checked for their origin too.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMetrics } from '../../src/server/metrics.js';
import { sessionRoomId } from '../../src/server/session.js';
import { startTestGateway } from '../helpers/gateway.js';
import { sample, scrape } from '../helpers/prometheus.js';
import { SioTestClient } from '../helpers/sio-client.js';
import { waitFor } from '../helpers/wait.js';
import { upgradeAnswer } from '../helpers/upgrade.js';
import { TestClient } from '../helpers/ws-client.js';

test('a foreign origin is refused on both transports and counted; the own origin connects', async () => {
  const gw = await startTestGateway({}, { observer: createMetrics() });
  const open: Array<{ close(): void }> = [];
  try {
    const victim = { cookie: 'bookingfrontendsession=sioVictimSession1', origin: 'https://evil.example' };
    for (const transports of [['polling'], ['websocket']] as const) {
      await assert.rejects(SioTestClient.connect(gw.httpUrl, { ...victim, transports: [...transports] }), `refused over ${transports[0]}`);
    }
    assert.equal(gw.gateway.connections.size, 0);
    assert.equal(gw.gateway.rooms.has(sessionRoomId('sioVictimSession1')), false, 'nobody joined the victim\'s session room');
    assert.equal(sample(await scrape(gw.httpUrl), 'portico_ws_connections_refused_total', { reason: 'origin' }), 2);

    const page = await SioTestClient.connect(gw.httpUrl, { cookie: 'bookingfrontendsession=sioOwnSession2', origin: `http://127.0.0.1:${gw.port}` });
    open.push(page);
    assert.equal(page.all[0]?.roomId, sessionRoomId('sioOwnSession2'));

    // An Engine.IO session id used from another site's page: the polling request is refused.
    const sid = page.socket.io.engine.id;
    const res = await fetch(`${gw.httpUrl}/wss/socket.io/?EIO=4&transport=polling&sid=${sid}`, { headers: { origin: 'https://evil.example' } });
    assert.equal(res.status, 403);
    assert.deepEqual(await res.json(), { error: 'origin', message: 'Forbidden' }, 'the same refusal as a cross-site upgrade, nothing of the session');
    assert.equal(sample(await scrape(gw.httpUrl), 'portico_ws_connections_refused_total', { reason: 'origin' }), 3);
    // The same session id on a websocket upgrade from that page: refused the same way.
    const upgraded = await upgradeAnswer(gw.port, `/wss/socket.io/?EIO=4&transport=websocket&sid=${sid}`, { Origin: 'https://evil.example' });
    assert.deepEqual(upgraded, { status: 403, body: '{"error":"origin","message":"Forbidden"}' });
    assert.equal(sample(await scrape(gw.httpUrl), 'portico_ws_connections_refused_total', { reason: 'origin' }), 4);
  } finally {
    for (const c of open) c.close();
    await gw.close();
  }
});

test('Socket.IO sessions and raw connections share the per-address cap', async () => {
  const gw = await startTestGateway({ limits: { maxConnectionsPerIp: 2 }, trustedProxies: [] }, { observer: createMetrics() });
  const open: Array<{ close(): void }> = [];
  try {
    open.push(await SioTestClient.connect(gw.httpUrl, { transports: ['websocket'] }));
    open.push(await TestClient.connect(gw.url));
    await assert.rejects(SioTestClient.connect(gw.httpUrl, { transports: ['polling'] }), 'a third from the same address is refused');
    await assert.rejects(TestClient.connect(gw.url), /HTTP 429/);
    assert.equal(sample(await scrape(gw.httpUrl), 'portico_ws_connections_refused_total', { reason: 'ip_limit' }), 2);
    open.shift()!.close();
    await waitFor(() => gw.gateway.connections.size === 1, 'the Socket.IO client gone');
    await waitFor(async () => {
      try {
        open.push(await SioTestClient.connect(gw.httpUrl, { transports: ['websocket'] }));
        return true;
      } catch {
        return false;
      }
    }, 'its slot given back');
  } finally {
    for (const c of open) c.close();
    await gw.close();
  }
});
