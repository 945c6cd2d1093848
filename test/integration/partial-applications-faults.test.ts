/**
 * Database faults under a running gateway, on a real PostgreSQL: pooled connections killed with
 * pg_terminate_backend, a statement stuck behind a lock past the statement timeout, and the
 * database dropped and recreated. Clients only ever see the fixed messages; details go to the
 * log, with session ids masked; the gateway keeps serving throughout.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { createPostgresStore, type PostgresStore } from '../../src/server/data/postgres-store.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { createTestDatabase, seedPartialApplications, storeOptions, type TestDatabase } from '../helpers/postgres.js';
import { TestClient, type Msg } from '../helpers/ws-client.js';

const SESSION_A = 'faultSessionAlpha12345';
const SESSION_B = 'faultSessionBravo67890';
const WAIT = 15_000;

async function request(c: TestClient, timeoutMs = WAIT): Promise<Msg> {
  c.send({ type: 'get_partial_applications' });
  return (await c.next((m) => m.type === 'partial_applications_response', timeoutMs)).data;
}

async function health(gw: TestGateway): Promise<Msg> {
  return (await (await fetch(`${gw.httpUrl}/health`)).json()) as Msg;
}

async function until(check: () => Promise<boolean> | boolean, what: string, ms = WAIT): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A pino logger writing JSON lines into memory, to check what reaches the log. */
function memoryLogger() {
  const lines: string[] = [];
  const stream = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
  return { log: pino({ level: 'debug' }, stream), text: () => lines.join('') };
}

describe('partial applications: database faults', () => {
  let db: TestDatabase;
  let store: PostgresStore;
  let appName: string;
  let gw: TestGateway;
  const logs = memoryLogger();
  const clients: TestClient[] = [];
  const connect = async (session: string) => {
    const c = await TestClient.connect(gw.url, { cookie: `PHPSESSID=${session}` });
    clients.push(c);
    return c;
  };

  before(async () => {
    db = await createTestDatabase();
    await seedPartialApplications(db, SESSION_A, SESSION_B);
    const options = storeOptions(db, { poolSize: 4, statementTimeoutMs: 400, healthIntervalMs: 200 });
    appName = options.applicationName!;
    store = await createPostgresStore(options, logs.log);
    gw = await startTestGateway({}, { store, log: logs.log });
  });

  after(async () => {
    for (const c of clients) c.close();
    await gw?.close();
    await db?.destroy();
  });

  test('pooled connections killed with pg_terminate_backend: the next request succeeds', async () => {
    const a = await connect(SESSION_A);
    const b = await connect(SESSION_B);
    // Concurrent look-ups from two connections leave several connections in the pool.
    const [ra, rb] = await Promise.all([request(a), request(b)]);
    assert.deepEqual([ra.count, rb.count], [2, 1]);

    const killed = await db.terminateBackends(appName);
    assert.ok(killed >= 1, `killed ${killed} pooled connection(s)`);
    const data = await request(a);
    assert.deepEqual([data.error, data.count], [false, 2], 'answered on a fresh connection');

    // Again with nothing in between, several times: never an error reply.
    for (let i = 0; i < 3; i++) {
      await db.terminateBackends(appName);
      const again = await request(b);
      assert.deepEqual([again.error, again.count], [false, 1]);
    }
    assert.equal(store.status, 'connected');
    assert.equal((await health(gw)).status, 'ok');
  });

  test('a connection killed in the middle of a look-up: the look-up is retried on another and succeeds', async () => {
    // Its own store with a long statement timeout, so the look-up can be held behind a lock.
    const options = storeOptions(db, { poolSize: 2, statementTimeoutMs: 10_000 });
    const slowStore = await createPostgresStore(options, logs.log);
    const gw2 = await startTestGateway({}, { store: slowStore, log: logs.log });
    const a = await TestClient.connect(gw2.url, { cookie: `PHPSESSID=${SESSION_A}` });
    const locker = await db.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE bb_application_resource IN ACCESS EXCLUSIVE MODE');
      a.send({ type: 'get_partial_applications' });
      await until(async () => (await db.lockWaiters(options.applicationName!)) === 1, 'the look-up to wait for the lock');
      assert.ok((await db.terminateBackends(options.applicationName!)) >= 1);
      // The retry waits for the same lock on a new connection; let it through.
      await until(async () => (await db.lockWaiters(options.applicationName!)) === 1, 'the retried look-up to wait for the lock');
      await locker.query('ROLLBACK');
      const data = (await a.next((m) => m.type === 'partial_applications_response', WAIT)).data;
      assert.deepEqual([data.error, data.count], [false, 2]);
      assert.equal(slowStore.status, 'connected');
    } finally {
      await locker.query('ROLLBACK').catch(() => {});
      await locker.end();
      a.close();
      await gw2.close();
    }
  });

  test('a statement stuck behind a lock is cancelled by the statement timeout; the gateway keeps serving', async () => {
    const a = await connect(SESSION_A);
    const watcher = await connect(SESSION_B);
    const locker = await db.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE bb_application_date IN ACCESS EXCLUSIVE MODE');
      a.send({ type: 'get_partial_applications' });
      // While A's look-up waits for the lock, other traffic is served.
      watcher.send({ type: 'ping', id: 'while-stuck' });
      const pong = await watcher.next((m) => m.type === 'pong', WAIT);
      assert.equal(pong.reply_to, 'while-stuck');
      const stuck = (await a.next((m) => m.type === 'partial_applications_response', WAIT)).data;
      assert.deepEqual(stuck, { error: true, status: 'error', message: 'Failed to retrieve partial applications' });
      assert.ok(!JSON.stringify(stuck).includes('cancel'), 'no database text reaches the client');
      const h = await health(gw);
      assert.equal(h.database, 'connected', 'a cancelled statement does not mean the database is gone');
    } finally {
      await locker.query('ROLLBACK').catch(() => {});
      await locker.end();
    }
    const after = await request(a);
    assert.deepEqual([after.error, after.count], [false, 2], 'next request after the lock is released succeeds');

    const logText = logs.text();
    assert.match(logText, /57014/, 'the statement-timeout detail is logged');
    assert.match(logText, /faultSes\.\.\./, 'with the session masked');
    assert.ok(!logText.includes(SESSION_A), 'the full session id never reaches the log');
  });

  test('database dropped: fixed error, health degraded, recovery when it is recreated', async () => {
    const a = await connect(SESSION_A);
    await db.drop();

    const down = await request(a);
    assert.deepEqual(down, { error: true, status: 'error', message: 'Database not connected' });
    assert.equal(store.status, 'disconnected');
    const h = await health(gw);
    assert.deepEqual([h.status, h.database], ['degraded', 'disconnected']);
    // Still serving while degraded.
    a.send({ type: 'ping', id: 'degraded' });
    assert.equal((await a.next((m) => m.type === 'pong', WAIT)).reply_to, 'degraded');

    await db.recreate();
    await seedPartialApplications(db, SESSION_A, SESSION_B);
    // Nobody asks for data meanwhile: the background check alone brings the status back.
    await until(async () => (await health(gw)).database === 'connected', 'health to report the database connected again');
    assert.equal((await health(gw)).status, 'ok');
    const back = await request(a);
    assert.deepEqual([back.error, back.count], [false, 2]);
    assert.ok(!logs.text().includes(SESSION_A), 'the full session id never reaches the log');
  });
});
