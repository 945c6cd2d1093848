/**
 * get_partial_applications and the update_partial_applications push against a real PostgreSQL
 * database holding PorticoEstate's booking tables: the right rows and shapes for a session,
 * never another session's, coalescing, and the replies without a session or a database.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createPostgresStore, type PostgresStore } from '../../src/server/data/postgres-store.js';
import { silentLogger } from '../../src/server/log.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import {
  createTestDatabase, insertApplication, seedPartialApplications, storeOptions, type SeededFixture, type TestDatabase,
} from '../helpers/postgres.js';
import { TestClient, type Msg } from '../helpers/ws-client.js';

const SESSION_A = 'paSessionAlpha0123456789';
const SESSION_B = 'paSessionBravo9876543210';
const SESSION_EMPTY = 'paSessionEmpty000000000';
const cookie = (s: string) => `bookingfrontendsession=${s}`;
const WAIT = 10_000;

async function request(c: TestClient): Promise<Msg> {
  c.send({ type: 'get_partial_applications' });
  return (await c.next((m) => m.type === 'partial_applications_response' && m.data?.source !== 'server_push', WAIT)).data;
}

async function until(check: () => Promise<boolean> | boolean, what: string, ms = WAIT): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('partial applications from PostgreSQL', () => {
  let db: TestDatabase;
  let fx: SeededFixture;
  let store: PostgresStore;
  let appName: string;
  let gw: TestGateway;
  const clients: TestClient[] = [];
  const connect = async (session?: string) => {
    const c = await TestClient.connect(gw.url, session ? { cookie: cookie(session) } : {});
    clients.push(c);
    return c;
  };

  before(async () => {
    db = await createTestDatabase();
    fx = await seedPartialApplications(db, SESSION_A, SESSION_B);
    const options = storeOptions(db);
    appName = options.applicationName!;
    store = await createPostgresStore(options, silentLogger());
    gw = await startTestGateway({}, { store });
  });

  after(async () => {
    for (const c of clients) c.close();
    await gw?.close();
    await db?.destroy();
  });

  test('a session gets exactly its partial applications, each with its children in PorticoEstate shapes', async () => {
    const c = await connect(SESSION_A);
    const data = await request(c);
    assert.equal(data.error, false);
    assert.equal(data.status, 'success');
    assert.equal(data.count, 2);
    assert.equal(data.sessionId, 'paSessio...');
    assert.deepEqual(data.applications.map((a: Msg) => a.id), [fx.full, fx.minimal], 'only NEWPARTIAL1 rows of this session');

    const full = data.applications[0];
    assert.equal(full.status, 'NEWPARTIAL1');
    assert.equal(full.session_id, SESSION_A);
    assert.equal(full.id_string, String(fx.full));
    assert.equal(full.name, 'Trening & kamp', '@EscapeString fields are decoded');
    assert.equal(full.modified, '2025-05-01 12:30:45.123456', 'timestamps stay the database text, as PDO returns them');
    assert.equal(full.building_id, 10);
    assert.ok(!('case_officer_id' in full), 'null fields are left out');

    assert.deepEqual(full.dates.map((d: Msg) => [d.from_, d.to_]), [
      ['2025-01-15T09:00:00+01:00', '2025-01-15T10:30:00+01:00'],
      ['2025-06-02T10:00:00+02:00', '2025-06-02T12:00:00+02:00'],
    ], 'dates ordered by from_, ISO 8601 in Europe/Oslo');
    assert.ok(full.dates.every((d: Msg) => Number.isInteger(d.id)));

    assert.deepEqual(full.resources.map((r: Msg) => [r.id, r.name, r.building_id]), [
      [fx.resources.hall, 'Gymsal & garderobe', 10],
      [fx.resources.room, 'Møterom', 20],
    ]);
    const hall = full.resources[0];
    assert.equal(hall.direct_booking, 1735689600, 'bigint columns are numbers');
    assert.equal(hall.deactivate_calendar, false);
    assert.equal(hall.hidden_in_frontend, true, '@ParseBool');
    assert.equal(hall.deactivate_application, false);
    assert.ok(!('booking_time_minutes' in hall), 'resources use the short form');

    assert.equal(full.orders.length, 2, 'the cancelled order is left out; one order per line as PorticoEstate groups them');
    const [rental, cake] = full.orders;
    assert.equal(rental.sum, 800);
    assert.deepEqual(
      { ...rental.lines[0] },
      {
        order_id: rental.lines[0].order_id, status: 1, parent_mapping_id: 0, article_mapping_id: rental.lines[0].article_mapping_id,
        article_cat_id: 1, quantity: '2.00', unit_price: '400.00', overridden_unit_price: '0.00', currency: 'NOK',
        amount: '800.00', unit: 'hour', tax_code: 0, tax: '0.00', name: 'Gymsal & garderobe',
      },
    );
    assert.equal(cake.sum, 187.5);
    assert.equal(cake.lines[0].name, 'Kaffe & kake', 'service lines are named after the service');
    assert.equal(cake.lines[0].article_cat_id, 2);

    assert.deepEqual(full.articles, [
      { id: rental.lines[0].article_mapping_id, quantity: 2, parent_id: null },
      { id: cake.lines[0].article_mapping_id, quantity: 3, parent_id: rental.lines[0].article_mapping_id },
    ]);
    assert.deepEqual(full.agegroups.map((g: Msg) => [g.name, g.male, g.female]), [['Barn', 3, 4], ['Ungdom', 5, 6]], 'ordered by agegroup sort');
    assert.equal(full.agegroups[0].description, 'Under 13');
    assert.equal(full.audience.length, 2);
    assert.ok(full.audience.every((id: unknown) => Number.isInteger(id)), 'audience is a list of target-audience ids');
    assert.deepEqual(full.documents.map((d: Msg) => [d.name, d.category, d.owner_id]), [['plan.pdf', 'other', fx.full]]);

    const minimal = data.applications[1];
    assert.deepEqual(minimal.resources.map((r: Msg) => r.id), [fx.resources.room]);
    for (const key of ['orders', 'articles', 'agegroups', 'audience', 'documents']) assert.deepEqual(minimal[key], [], key);
  });

  test("another session's rows are never returned, and a session with none gets an empty list", async () => {
    const b = await connect(SESSION_B);
    const data = await request(b);
    assert.equal(data.count, 1);
    assert.deepEqual(data.applications.map((a: Msg) => a.id), [fx.other]);
    const other = data.applications[0];
    assert.deepEqual(other.resources.map((r: Msg) => r.id), [fx.resources.others]);
    assert.equal(other.orders.length, 1);
    assert.equal(other.orders[0].lines[0].amount, '3600.00');
    assert.deepEqual(other.documents.map((d: Msg) => d.name), ['andres.pdf']);
    assert.ok(!JSON.stringify(data).includes(SESSION_A), "nothing of session A's in B's reply");

    const a = await connect(SESSION_A);
    const mine = await request(a);
    const text = JSON.stringify(mine);
    for (const marker of ['andres.pdf', '3600.00', 'Andres', SESSION_B]) assert.ok(!text.includes(marker), `no ${marker} in A's reply`);

    const empty = await connect(SESSION_EMPTY);
    const none = await request(empty);
    assert.deepEqual([none.error, none.count, none.applications], [false, 0, []]);
  });

  test('no session: the fixed "No session found" error', async () => {
    const c = await connect();
    const data = await request(c);
    assert.deepEqual(data, { error: true, status: 'error', message: 'No session found' });
  });

  test('update_partial_applications (ingress and spool file) pushes the new state to the session room only', async () => {
    const a1 = await connect(SESSION_A);
    const a2 = await connect(SESSION_A);
    const b = await connect(SESSION_B);
    const added = await insertApplication(db, { sessionId: SESSION_A, name: 'Ny søknad' });
    await db.query("INSERT INTO bb_application_date (application_id, from_, to_) VALUES ($1, '2025-08-01 08:00:00', '2025-08-01 09:00:00')", [added]);

    await gw.gateway.ingress.handle('session_messages', { type: 'update_partial_applications', sessionId: SESSION_A }, 'spool');
    for (const c of [a1, a2]) {
      const push = (await c.next((m) => m.type === 'partial_applications_response' && m.data?.source === 'server_push', WAIT)).data;
      assert.equal(push.error, false);
      assert.equal(push.count, 3);
      assert.ok(Date.parse(push.timestamp) > 0, 'push carries data.timestamp');
      const mine = push.applications.find((x: Msg) => x.id === added);
      assert.ok(mine, 'the inserted row is in the push');
      assert.deepEqual(mine.dates.map((d: Msg) => d.from_), ['2025-08-01T08:00:00+02:00']);
    }
    assert.ok(await b.expectNone((m) => m.type === 'partial_applications_response'), 'session B gets nothing');

    // The same payload written by the PHP side as a spool file (its Redis fallback).
    await db.query("UPDATE bb_application SET status = 'NEW' WHERE id = $1", [added]);
    const file = path.join(gw.spoolDir, `websocket_session_${SESSION_A}_${Date.now()}.${process.pid}.json`);
    fs.writeFileSync(file, JSON.stringify({ type: 'update_partial_applications', sessionId: SESSION_A }));
    const push = (await a1.next((m) => m.type === 'partial_applications_response' && m.data?.source === 'server_push', WAIT)).data;
    assert.equal(push.count, 2, 'the submitted application has left the list');
    assert.ok(!push.applications.some((x: Msg) => x.id === added));
    assert.ok(await b.expectNone((m) => m.type === 'partial_applications_response'));
  });

  test('requests on one connection coalesce onto the look-up in flight; each request still gets its reply', async () => {
    const a = await connect(SESSION_A);
    const a2 = await connect(SESSION_A);
    const locker = await db.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE bb_application IN ACCESS EXCLUSIVE MODE');
      const before = store.statements;
      for (let i = 0; i < 3; i++) a.send({ type: 'get_partial_applications' });
      a2.send({ type: 'get_partial_applications' });
      // A pong after the three requests: every request on `a` has been dispatched by then.
      a.send({ type: 'ping', id: 'after-requests' });
      await a.next((m) => m.type === 'pong' && m.reply_to === 'after-requests', WAIT);
      await until(async () => (await db.lockWaiters(appName)) === 2, 'both connections\' look-ups to wait for the lock');
      assert.equal(await db.lockWaiters(appName), 2, 'one look-up per connection, not one per request');
      await locker.query('COMMIT');

      const replies: Msg[] = [];
      for (let i = 0; i < 3; i++) replies.push((await a.next((m) => m.type === 'partial_applications_response', WAIT)).data);
      const other = (await a2.next((m) => m.type === 'partial_applications_response', WAIT)).data;
      for (const r of [...replies, other]) assert.deepEqual([r.error, r.count], [false, 2]);
      assert.ok(await a.expectNone((m) => m.type === 'partial_applications_response', 200), 'no fourth reply');
      // Two look-ups (one per connection), each = applications + 6 child tables.
      assert.equal(store.statements - before, 14);
    } finally {
      await locker.query('ROLLBACK').catch(() => {});
      await locker.end();
    }
  });

  test('one look-up runs one statement per table however many applications the session has', async () => {
    for (let i = 0; i < 5; i++) {
      const id = await insertApplication(db, { sessionId: SESSION_B, name: `Ekstra ${i}` });
      await db.query("INSERT INTO bb_application_date (application_id, from_, to_) VALUES ($1, '2025-09-01 10:00:00', '2025-09-01 11:00:00')", [id]);
    }
    const b = await connect(SESSION_B);
    const before = store.statements;
    const data = await request(b);
    assert.equal(data.count, 6);
    assert.ok(data.applications.every((x: Msg) => x.dates.length === 1));
    assert.equal(store.statements - before, 7, 'no N+1: 1 + 6 statements for 6 applications');
  });

  test('/health reports the database as connected', async () => {
    const res = await fetch(`${gw.httpUrl}/health`);
    const body = (await res.json()) as Msg;
    assert.equal(body.database, 'connected');
    assert.equal(body.status, 'ok');
  });
});

describe('partial applications without a database', () => {
  test('"Database not connected" and /health database disabled', async () => {
    const gw = await startTestGateway();
    try {
      const c = await TestClient.connect(gw.url, { cookie: cookie(SESSION_A) });
      const data = await request(c);
      assert.deepEqual(data, { error: true, status: 'error', message: 'Database not connected' });
      const body = (await (await fetch(`${gw.httpUrl}/health`)).json()) as Msg;
      assert.equal(body.database, 'disabled');
      c.close();
    } finally {
      await gw.close();
    }
  });
});
