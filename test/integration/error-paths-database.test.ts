/**
 * PostgreSQL failures the fault tests in partial-applications-faults.test.ts do not reach: a
 * database that stops answering without closing its connections, an SQL error, and a database
 * that is down when the gateway starts. The database is real; the hang and the late start are a
 * TCP forwarder in front of it (test/helpers/tcp-proxy.ts). Clients only ever see the fixed
 * messages, the log has the detail with session ids masked, and the gateway keeps serving.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createPostgresStore } from '../../src/server/data/postgres-store.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { freePort } from '../helpers/net.js';
import { createTestDatabase, seedPartialApplications, storeOptions, type TestDatabase } from '../helpers/postgres.js';
import { captureLogger, type LogLine } from '../helpers/redis-gateway.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { waitFor } from '../helpers/wait.js';
import { assertStillServed, TestClient, type Msg } from '../helpers/ws-client.js';

const SESSION_A = 'errorPathSessionA1234';
const SESSION_B = 'errorPathSessionB5678';
const WAIT = 20_000;

let db: TestDatabase;

before(async () => {
  db = await createTestDatabase();
  await seedPartialApplications(db, SESSION_A, SESSION_B);
});
after(async () => { await db?.destroy(); });

async function request(c: TestClient): Promise<Msg> {
  c.send({ type: 'get_partial_applications' });
  return (await c.next((m) => m.type === 'partial_applications_response', WAIT)).data;
}

async function health(gw: TestGateway): Promise<Msg> {
  return (await (await fetch(`${gw.httpUrl}/health`)).json()) as Msg;
}

function assertMasked(lines: LogLine[]): void {
  const text = JSON.stringify(lines);
  assert.ok(!text.includes(SESSION_A), 'the full session id never reaches the log');
  assert.match(text, /errorPat\.\.\./, 'the session is named masked');
}

/** A gateway whose store reaches the test database through `port` (a proxy, or nothing). */
async function gatewayVia(port: number, overrides: Parameters<typeof storeOptions>[1] = {}) {
  const { log, lines } = captureLogger();
  const options = storeOptions(db, { statementTimeoutMs: 300, connectTimeoutMs: 500, healthIntervalMs: 300, ...overrides });
  const store = await createPostgresStore({ ...options, target: { ...options.target, port } }, log);
  const gw = await startTestGateway({}, { store, log });
  return { gw, store, lines };
}

test('a database that stops answering: "Database not connected" within the timeouts, health degraded, back by itself', async () => {
  const proxy = await startTcpProxy({ host: db.host, port: db.port });
  const { gw, store, lines } = await gatewayVia(proxy.port);
  const a = await TestClient.connect(gw.url, { cookie: `PHPSESSID=${SESSION_A}` });
  try {
    const first = await request(a);
    assert.deepEqual([first.error, first.count], [false, 2], 'answered through the proxy');

    proxy.freeze(); // a pooled connection stays open, and nothing comes back on it
    const hung = await request(a);
    assert.deepEqual(hung, { error: true, status: 'error', message: 'Database not connected' });
    assert.equal(store.status, 'disconnected');
    assert.deepEqual([(await health(gw)).status, (await health(gw)).database], ['degraded', 'disconnected']);
    assert.match(JSON.stringify(lines), /Query read timeout|timeout exceeded when trying to connect/, 'the client-side timeout is logged');
    await assertStillServed(a, 'while-hung', WAIT);

    proxy.thaw();
    await waitFor(async () => (await health(gw)).database === 'connected', 'the background check to find the database again', WAIT);
    const back = await request(a);
    assert.deepEqual([back.error, back.count], [false, 2]);
    assertMasked(lines);
  } finally {
    a.close();
    await gw.close();
    await proxy.close();
  }
});

test('an SQL error fails that look-up only: fixed message, the database stays "connected"', async () => {
  const { gw, store, lines } = await gatewayVia(db.port);
  const a = await TestClient.connect(gw.url, { cookie: `PHPSESSID=${SESSION_A}` });
  await db.query('ALTER TABLE bb_application_date RENAME TO bb_application_date_gone');
  try {
    const failed = await request(a);
    assert.deepEqual(failed, { error: true, status: 'error', message: 'Failed to retrieve partial applications' });
    assert.equal(store.status, 'connected', 'the server answered, so it is there');
    assert.equal((await health(gw)).status, 'ok');
    assert.match(JSON.stringify(lines), /42P01/, 'the SQLSTATE (undefined table) is logged');
    assert.ok(!JSON.stringify(failed).includes('bb_application_date'), 'no SQL detail reaches the client');
    await assertStillServed(a, 'after-sql-error', WAIT);
    assertMasked(lines);
  } finally {
    await db.query('ALTER TABLE bb_application_date_gone RENAME TO bb_application_date');
    a.close();
    await gw.close();
  }
  // The same gateway set-up answers normally once the table is back.
  const again = await gatewayVia(db.port);
  const b = await TestClient.connect(again.gw.url, { cookie: `PHPSESSID=${SESSION_A}` });
  try {
    assert.deepEqual([(await request(b)).count], [2]);
  } finally {
    b.close();
    await again.gw.close();
  }
});

test('the database down at start-up: the gateway starts degraded and connects once the database is there', async () => {
  const port = await freePort(); // nothing listens there yet
  const { gw, store, lines } = await gatewayVia(port);
  const a = await TestClient.connect(gw.url, { cookie: `PHPSESSID=${SESSION_A}` });
  let proxy: TcpProxy | null = null;
  try {
    assert.equal(store.status, 'disconnected');
    const h = await health(gw);
    assert.deepEqual([h.status, h.database], ['degraded', 'disconnected']);
    assert.deepEqual(await request(a), { error: true, status: 'error', message: 'Database not connected' });
    assert.ok(lines.some((l) => l.msg === 'postgres: database not reachable' && /ECONNREFUSED/.test(JSON.stringify(l))), 'why is logged');
    await assertStillServed(a, 'degraded-start', WAIT);

    proxy = await startTcpProxy({ host: db.host, port: db.port }, port);
    await waitFor(async () => (await health(gw)).database === 'connected', 'the background check to find the database', WAIT);
    assert.equal((await health(gw)).status, 'ok');
    const data = await request(a);
    assert.deepEqual([data.error, data.count], [false, 2]);
    assertMasked(lines);
  } finally {
    a.close();
    await gw.close();
    await proxy?.close();
  }
});
