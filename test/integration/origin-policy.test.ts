/**
 * Cross-site WebSocket hijacking and the per-address cap, over real sockets: which upgrades the
 * gateway accepts by Origin, Host, X-Forwarded-Host/-Proto/-For (believed only from trusted
 * proxies), what a refused one gets (a status, no session data), the log line and the count.
 * 127.0.0.2 is loopback too: binding the client to it makes a second, distinct peer address.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import type { IdentityOutcome, IdentityResolver } from '../../src/server/identity/resolver.js';
import { createMetrics } from '../../src/server/metrics.js';
import { sessionRoomId } from '../../src/server/session.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { sample, scrape } from '../helpers/prometheus.js';
import { captureLogger, waitFor } from '../helpers/redis-gateway.js';
import { UPGRADE_HEADERS, upgradeAnswer, type UpgradeAnswer } from '../helpers/upgrade.js';
import { TestClient } from '../helpers/ws-client.js';

/** Send one upgrade request to `/wss` and report the status (101 when accepted) and any body. */
function upgrade(gw: TestGateway, headers: Record<string, string>, localAddress?: string): Promise<UpgradeAnswer> {
  return upgradeAnswer(gw.port, '/wss', headers, localAddress);
}

const own = (gw: TestGateway) => `http://127.0.0.1:${gw.port}`;

test('a foreign origin is refused with 403 before anything of the session is touched; logged once per origin, never the cookie; counted', async () => {
  const { log, lines } = captureLogger();
  const gw = await startTestGateway({}, { log, observer: createMetrics() });
  try {
    const victim = { cookie: 'bookingfrontendsession=victimSession0001', origin: 'https://evil.example' };
    for (let i = 0; i < 3; i++) {
      const answer = await upgrade(gw, victim);
      assert.equal(answer.status, 403);
      assert.doesNotMatch(answer.body, /session|connection_success|victim/i, 'the refusal carries no session data');
    }
    await assert.rejects(TestClient.connect(gw.url, victim), /HTTP 403/);
    assert.equal(gw.gateway.connections.size, 0);
    assert.equal(gw.gateway.rooms.has(sessionRoomId('victimSession0001')), false, 'nobody joined the victim\'s session room');
    assert.equal(sample(await scrape(gw.httpUrl), 'portico_ws_connections_refused_total', { reason: 'origin' }), 4);

    const refusals = lines.filter((l) => l.msg === 'upgrade refused');
    assert.equal(refusals.length, 1, 'one line per origin per minute');
    assert.equal(refusals[0]!.origin, 'https://evil.example');
    assert.equal(refusals[0]!.status, 403);
    await upgrade(gw, { origin: 'https://other-evil.example' });
    assert.equal(lines.filter((l) => l.msg === 'upgrade refused').length, 2, 'another origin gets its own line');
    assert.doesNotMatch(JSON.stringify(lines), /victimSession/, 'the cookie is never logged');
  } finally {
    await gw.close();
  }
});

test('same origin via Host is accepted; another host or port is not', async () => {
  const gw = await startTestGateway();
  try {
    const client = await TestClient.connect(gw.url, { origin: own(gw), cookie: 'PHPSESSID=sameOrigin01' });
    assert.equal(gw.gateway.rooms.has(sessionRoomId('sameOrigin01')), true);
    client.close();
    assert.equal((await upgrade(gw, { origin: `http://LocalHost:${gw.port}`, host: `localhost:${gw.port}` })).status, 101, 'host names compare case-insensitively');
    assert.equal((await upgrade(gw, { origin: `http://localhost:${gw.port}` })).status, 403, 'another host name');
    assert.equal((await upgrade(gw, { origin: `http://127.0.0.1:${gw.port + 1}` })).status, 403, 'another port');
    assert.equal((await upgrade(gw, { origin: 'null' })).status, 403, 'an opaque origin (sandboxed frame, file: page)');
    assert.equal((await upgrade(gw, { origin: 'http://127.0.0.1', host: '127.0.0.1' })).status, 101, 'default port on both sides');
    assert.equal((await upgrade(gw, { origin: 'http://127.0.0.1:8443', host: '127.0.0.1' })).status, 403, 'Host without port is not any port');
  } finally {
    await gw.close();
  }
});

test('X-Forwarded-Host and -Proto are believed from a loopback proxy (the default), and ignored from an untrusted peer', async () => {
  // What Apache's mod_proxy sends: Host is the backend, X-Forwarded-Host what the browser addressed.
  const site = 'https://booking.example.org';
  const proxied = { origin: site, host: '127.0.0.1:8080', 'x-forwarded-host': 'booking.example.org', 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.9' };
  const trusting = await startTestGateway();
  try {
    assert.equal((await upgrade(trusting, proxied)).status, 101);
    assert.equal((await upgrade(trusting, proxied, '127.0.0.2')).status, 101, 'all of 127.0.0.0/8 is loopback');
    assert.equal((await upgrade(trusting, { ...proxied, 'x-forwarded-proto': 'http' })).status, 403, 'the proxy says the browser used port 80, the page is on 443');
    assert.equal((await upgrade(trusting, { ...proxied, 'x-forwarded-host': 'booking.example.org, internal:8080' })).status, 101, 'the outermost entry counts');
    const nginx = { origin: site, host: 'booking.example.org', 'x-forwarded-proto': 'https' }; // proxy_set_header Host $host
    assert.equal((await upgrade(trusting, nginx)).status, 101);
  } finally {
    await trusting.close();
  }
  const strict = await startTestGateway({ trustedProxies: ['127.0.0.2'] });
  try {
    assert.equal((await upgrade(strict, proxied)).status, 403, 'from 127.0.0.1, not a trusted proxy here: X-Forwarded-Host ignored, Host does not match');
    assert.equal((await upgrade(strict, proxied, '127.0.0.2')).status, 101, 'the configured proxy is believed');
  } finally {
    await strict.close();
  }
});

test('upgrades without Origin (PHP, CLI, servers) are accepted and get their session', async () => {
  const gw = await startTestGateway();
  try {
    const ws = await TestClient.connect(gw.url, { cookie: 'PHPSESSID=noOrigin0001' });
    assert.equal(gw.gateway.rooms.has(sessionRoomId('noOrigin0001')), true);
    ws.close();
  } finally {
    await gw.close();
  }
});

test('WSS_ALLOWED_ORIGINS adds origins to the same-origin rule', async () => {
  const gw = await startTestGateway({ limits: { allowedOrigins: ['https://booking.example.org'] } });
  try {
    assert.equal((await upgrade(gw, { origin: 'https://booking.example.org' })).status, 101);
    assert.equal((await upgrade(gw, { origin: own(gw) })).status, 101, 'its own host still works');
    assert.equal((await upgrade(gw, { origin: 'http://booking.example.org' })).status, 403, 'the scheme is part of the origin');
    assert.equal((await upgrade(gw, { origin: 'https://evil.example' })).status, 403);
  } finally {
    await gw.close();
  }
});

test('WSS_ALLOWED_ORIGINS=* accepts any origin and says so in the start-up log', async () => {
  const { log, lines } = captureLogger();
  const gw = await startTestGateway({ limits: { allowedOrigins: ['*'] } }, { log });
  try {
    const warning = lines.find((l) => l.level === 40 && /WSS_ALLOWED_ORIGINS=\*/.test(l.msg));
    assert.ok(warning, 'a start-up warning names the setting');
    const client = await TestClient.connect(gw.url, { origin: 'https://evil.example', cookie: 'PHPSESSID=anyOrigin001' });
    assert.equal(gw.gateway.rooms.has(sessionRoomId('anyOrigin001')), true);
    client.close();
  } finally {
    await gw.close();
  }
  const { log: quietLog, lines: quiet } = captureLogger();
  const normal = await startTestGateway({}, { log: quietLog });
  await normal.close();
  assert.equal(quiet.filter((l) => /WSS_ALLOWED_ORIGINS/.test(l.msg)).length, 0, 'no warning by default');
});

test('WSS_MAX_CONNECTIONS_PER_IP: 429 beyond the cap per address, the slot comes back on close', async () => {
  // No trusted proxy: 127.0.0.1 is a client like any other here.
  const gw = await startTestGateway({ limits: { maxConnectionsPerIp: 2 }, trustedProxies: [] }, { observer: createMetrics() });
  const clients: TestClient[] = [];
  try {
    clients.push(await TestClient.connect(gw.url), await TestClient.connect(gw.url));
    await assert.rejects(TestClient.connect(gw.url), /HTTP 429/);
    clients.push(await TestClient.connect(gw.url, { localAddress: '127.0.0.2' }));
    assert.equal(sample(await scrape(gw.httpUrl), 'portico_ws_connections_refused_total', { reason: 'ip_limit' }), 1);
    clients[0]!.close();
    await waitFor(() => gw.gateway.connections.size === 2, 'the closed connection to be gone');
    clients.push(await TestClient.connect(gw.url));
  } finally {
    for (const c of clients) c.close();
    await gw.close();
  }
});

test('the per-address cap counts X-Forwarded-For from a trusted proxy, and the peer otherwise', async () => {
  const behind = (client: string) => ({ headers: { 'x-forwarded-for': client } });
  const gw = await startTestGateway({ limits: { maxConnectionsPerIp: 1 } });
  const clients: TestClient[] = [];
  try {
    clients.push(await TestClient.connect(gw.url, behind('203.0.113.7')));
    await assert.rejects(TestClient.connect(gw.url, behind('203.0.113.7')), /HTTP 429/);
    clients.push(await TestClient.connect(gw.url, behind('203.0.113.8')), await TestClient.connect(gw.url, behind('2001:db8::1')));
    await assert.rejects(TestClient.connect(gw.url, behind('2001:db8::2')), /HTTP 429/, 'one IPv6 /64 is one address');
    clients.push(await TestClient.connect(gw.url, behind('2001:db8:0:1::1')));
    assert.deepEqual([...gw.gateway.connections].map((c) => c.remoteAddress).sort(), ['2001:db8:0:1::1', '2001:db8::1', '203.0.113.7', '203.0.113.8']);
  } finally {
    for (const c of clients.splice(0)) c.close();
    await gw.close();
  }
  const strict = await startTestGateway({ limits: { maxConnectionsPerIp: 1 }, trustedProxies: ['127.0.0.2'] });
  try {
    clients.push(await TestClient.connect(strict.url, behind('203.0.113.7')));
    await assert.rejects(TestClient.connect(strict.url, behind('203.0.113.8')), /HTTP 429/, 'from an untrusted peer the header is ignored: both are 127.0.0.1');
  } finally {
    for (const c of clients) c.close();
    await strict.close();
  }
});

test('a trusted proxy that sends no X-Forwarded-For is many clients: the per-address cap does not apply to it, and the log says so once (info)', async () => {
  const { log, lines } = captureLogger();
  const gw = await startTestGateway({ limits: { maxConnectionsPerIp: 1 } }, { log }); // loopback is trusted by default
  const clients: TestClient[] = [];
  try {
    for (let i = 0; i < 3; i++) clients.push(await TestClient.connect(gw.url));
    assert.equal(gw.gateway.connections.size, 3, 'three clients behind the proxy, all served');
    const notes = lines.filter((l) => /carry no X-Forwarded-For/.test(l.msg));
    assert.equal(notes.length, 1, 'one line for the proxy, not one per upgrade');
    assert.equal(notes[0]!.level, 30, 'info: a browser on the gateway\'s own host is such a case too');
    clients.push(await TestClient.connect(gw.url, { headers: { 'x-forwarded-for': '203.0.113.7' } }));
    await assert.rejects(TestClient.connect(gw.url, { headers: { 'x-forwarded-for': '203.0.113.7' } }), /HTTP 429/, 'a forwarded client is still capped');
  } finally {
    for (const c of clients) c.close();
    await gw.close();
  }
});

test('an upgrade waiting for its identity holds its address\'s slot; a client that gave up meanwhile gives it back once the answer comes', async () => {
  // A resolver that answers only when told to: PorticoEstate taking its time.
  const waiting: Array<(o: IdentityOutcome) => void> = [];
  const slow: IdentityResolver = { mode: 'memory', state: 'up', resolve: () => new Promise((resolve) => waiting.push(resolve)) };
  const gw = await startTestGateway({ limits: { maxConnectionsPerIp: 1 }, trustedProxies: [] }, { identity: slow });
  const pending: http.ClientRequest[] = [];
  /** Start an upgrade: 'refused' (its answer came) or 'waiting' (it reached the identity look-up). */
  const attempt = (): Promise<number | 'waiting'> => new Promise((resolve) => {
    const before = waiting.length;
    const req = http.request({ host: '127.0.0.1', port: gw.port, path: '/wss', headers: UPGRADE_HEADERS });
    pending.push(req);
    req.on('error', () => {});
    req.on('response', (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    req.end();
    void waitFor(() => waiting.length > before, 'the identity look-up', 5000).then(() => resolve('waiting'), () => {});
  });
  try {
    assert.equal(await attempt(), 'waiting');
    assert.equal(await attempt(), 429, 'the upgrade waiting for its identity already holds the slot');
    pending[0]!.destroy(); // the client gives up before PorticoEstate answers
    // (Its socket is not read while the identity is looked up, which WSS_AUTH_TIMEOUT_MS bounds.)
    waiting[0]!({ kind: 'anonymous' });
    let outcome: number | 'waiting' = 429;
    const deadline = Date.now() + 5000;
    while (outcome === 429 && Date.now() < deadline) outcome = await attempt();
    assert.equal(outcome, 'waiting', 'the slot came back when the abandoned socket closed');
    assert.equal(gw.gateway.connections.size, 0, 'the abandoned upgrade became no connection');
  } finally {
    for (const req of pending) req.destroy();
    for (const answer of waiting.splice(0)) answer({ kind: 'anonymous' });
    await gw.close();
  }
});
