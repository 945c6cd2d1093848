/**
 * A private PostgreSQL database per test file: created with a unique name on 127.0.0.1:5432 as
 * user `postgres` (trust auth, as .ci/run sets up), loaded with PorticoEstate's booking tables
 * from test/fixtures/portico-schema.sql, and dropped afterwards. It can be dropped and recreated
 * mid-test to play "database gone" and "database back".
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { PostgresStoreOptions } from '../../src/server/data/postgres-store.js';

const HOST = '127.0.0.1';
const PORT = 5432;
const ADMIN_USER = 'postgres';
const SCHEMA_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'portico-schema.sql');

export interface TestDatabase {
  name: string;
  host: string;
  port: number;
  user: string;
  url: string;
  /** Run SQL in the test database on the helper's own connection. */
  query<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<T[]>;
  /** Open another connection to the test database (for holding locks); the caller ends it. */
  connect(): Promise<pg.Client>;
  /** Terminate every backend of the test database whose application_name is `applicationName`; returns how many. */
  terminateBackends(applicationName: string): Promise<number>;
  /** Backends of `applicationName` currently waiting for a lock. */
  lockWaiters(applicationName: string): Promise<number>;
  /** DROP DATABASE … WITH (FORCE): every connection to it is ended. */
  drop(): Promise<void>;
  /** Create it again with the schema (no rows). */
  recreate(): Promise<void>;
  /** Drop it for good and close the helper's connections. */
  destroy(): Promise<void>;
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ host: HOST, port: PORT, user: ADMIN_USER, database: 'postgres' });
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Connection options for a PostgresStore on the test database, with test-friendly defaults. */
export function storeOptions(db: TestDatabase, overrides: Partial<PostgresStoreOptions> = {}): PostgresStoreOptions {
  return {
    target: { host: db.host, port: db.port, database: db.name, user: db.user },
    statementTimeoutMs: 5000,
    poolSize: 4,
    connectTimeoutMs: 3000,
    healthIntervalMs: 300,
    timezone: 'Europe/Oslo',
    applicationName: `portico-ws-test-${randomBytes(3).toString('hex')}`,
    ...overrides,
  };
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `portico_ws_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const schema = fs.readFileSync(SCHEMA_FILE, 'utf8');
  let own: pg.Client | null = null;

  const create = async () => {
    await admin((c) => c.query(`CREATE DATABASE ${name}`));
    own = await open();
    await own.query(schema);
  };
  const open = async () => {
    const client = new pg.Client({ host: HOST, port: PORT, user: ADMIN_USER, database: name });
    client.on('error', () => {});
    await client.connect();
    return client;
  };
  const closeOwn = async () => {
    const c = own;
    own = null;
    await c?.end().catch(() => {});
  };
  const drop = async () => {
    await closeOwn();
    await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  };

  await create();
  return {
    name,
    host: HOST,
    port: PORT,
    user: ADMIN_USER,
    url: `postgres://${ADMIN_USER}@${HOST}:${PORT}/${name}`,
    async query<T extends pg.QueryResultRow>(sql: string, values: unknown[] = []) {
      if (!own) throw new Error(`test database ${name} is dropped`);
      return (await own.query<T>(sql, values)).rows;
    },
    connect: open,
    terminateBackends: (applicationName) => admin(async (c) => (await c.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = $2',
      [name, applicationName],
    )).rowCount ?? 0),
    lockWaiters: (applicationName) => admin(async (c) => Number((await c.query(
      "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = $2 AND wait_event_type = 'Lock'",
      [name, applicationName],
    )).rows[0].n)),
    drop,
    recreate: create,
    destroy: drop,
  };
}

// ---- fixtures -------------------------------------------------------------------------

export interface ApplicationRow { sessionId: string; status?: string; name?: string; buildingName?: string }

/** Insert one bb_application row with PorticoEstate's required columns; returns its id. */
export async function insertApplication(db: TestDatabase, row: ApplicationRow): Promise<number> {
  const [inserted] = await db.query<{ id: number }>(
    `INSERT INTO bb_application (status, session_id, modified, building_name, building_id, activity_id, name, organizer,
       contact_name, contact_email, contact_phone, secret, owner_id, customer_identifier_type, responsible_city)
     VALUES ($1, $2, '2025-05-01 12:30:45.123456', $3, 10, 1, $4, 'Idrettslaget', 'Kari Nordmann', 'kari@example.org',
       '12345678', 'c0ffee', 7, 'ssn', 'Bergen')
     RETURNING id`,
    [row.status ?? 'NEWPARTIAL1', row.sessionId, row.buildingName ?? 'Idrettshallen', row.name ?? 'Trening'],
  );
  await db.query("UPDATE bb_application SET id_string = cast(id AS varchar) WHERE id = $1", [inserted!.id]);
  return inserted!.id;
}

export interface SeededFixture {
  /** Session A's partial applications: a full one, then a minimal one. */
  full: number;
  minimal: number;
  /** Session A's application that is no longer partial. */
  submitted: number;
  /** Session B's partial application. */
  other: number;
  resources: { hall: number; room: number; others: number };
}

/**
 * Two sessions' worth of PorticoEstate rows: session A has a partial application with every
 * kind of child row (dates out of order, two resources in different buildings, age groups,
 * target audience, a live and a cancelled purchase order, a document), a minimal partial one
 * and a submitted one; session B has one partial application with children of its own.
 */
export async function seedPartialApplications(db: TestDatabase, sessionA: string, sessionB: string): Promise<SeededFixture> {
  const [hall] = await db.query<{ id: number }>(
    `INSERT INTO bb_resource (name, activity_id, rescategory_id, direct_booking, simple_booking, deactivate_application, hidden_in_frontend, activate_prepayment)
     VALUES ('Gymsal &amp; garderobe', 1, 3, 1735689600, 1, 0, 1, 0) RETURNING id`);
  const [room] = await db.query<{ id: number }>("INSERT INTO bb_resource (name, activity_id) VALUES ('Møterom', 1) RETURNING id");
  const [others] = await db.query<{ id: number }>("INSERT INTO bb_resource (name, activity_id) VALUES ('Andres rom', 1) RETURNING id");
  await db.query('INSERT INTO bb_building_resource (building_id, resource_id) VALUES (10, $1), (20, $2), (30, $3)', [hall!.id, room!.id, others!.id]);

  const full = await insertApplication(db, { sessionId: sessionA, name: 'Trening &amp; kamp', buildingName: 'Idrettshallen' });
  const minimal = await insertApplication(db, { sessionId: sessionA, name: 'Møte' });
  const submitted = await insertApplication(db, { sessionId: sessionA, status: 'NEW', name: 'Sendt' });
  const other = await insertApplication(db, { sessionId: sessionB, name: 'Andres søknad' });

  // Summer date first in insertion order; the winter one must come out first (ORDER BY from_).
  await db.query(`INSERT INTO bb_application_date (application_id, from_, to_) VALUES
    ($1, '2025-06-02 10:00:00', '2025-06-02 12:00:00'),
    ($1, '2025-01-15 09:00:00', '2025-01-15 10:30:00'),
    ($2, '2025-03-01 18:00:00', '2025-03-01 19:00:00'),
    ($3, '2025-04-01 18:00:00', '2025-04-01 19:00:00'),
    ($4, '2025-05-01 18:00:00', '2025-05-01 19:00:00')`, [full, minimal, submitted, other]);
  await db.query(`INSERT INTO bb_application_resource (application_id, resource_id) VALUES
    ($1, $5), ($1, $6), ($2, $6), ($3, $5), ($4, $7)`, [full, minimal, submitted, other, hall!.id, room!.id, others!.id]);

  const [youth] = await db.query<{ id: number }>("INSERT INTO bb_agegroup (activity_id, name, sort) VALUES (1, 'Ungdom', 2) RETURNING id");
  const [kids] = await db.query<{ id: number }>("INSERT INTO bb_agegroup (activity_id, name, sort, description) VALUES (1, 'Barn', 1, 'Under 13') RETURNING id");
  await db.query('INSERT INTO bb_application_agegroup (application_id, agegroup_id, male, female) VALUES ($1, $2, 5, 6), ($1, $3, 3, 4), ($4, $2, 1, 1)',
    [full, youth!.id, kids!.id, other]);

  const [adults] = await db.query<{ id: number }>("INSERT INTO bb_targetaudience (activity_id, name, sort) VALUES (1, 'Voksne', 5) RETURNING id");
  const [teens] = await db.query<{ id: number }>("INSERT INTO bb_targetaudience (activity_id, name, sort) VALUES (1, 'Ungdom', 1) RETURNING id");
  await db.query('INSERT INTO bb_application_targetaudience (application_id, targetaudience_id) VALUES ($1, $2), ($1, $3), ($4, $2)',
    [full, adults!.id, teens!.id, other]);

  const [service] = await db.query<{ id: number }>("INSERT INTO bb_service (name) VALUES ('Kaffe &amp; kake') RETURNING id");
  const [hallMapping] = await db.query<{ id: number }>(
    "INSERT INTO bb_article_mapping (article_cat_id, article_id, article_code, unit, tax_code) VALUES (1, $1, 'HALL', 'hour', 0) RETURNING id", [hall!.id]);
  const [serviceMapping] = await db.query<{ id: number }>(
    "INSERT INTO bb_article_mapping (article_cat_id, article_id, article_code, unit, tax_code) VALUES (2, $1, 'CAKE', 'each', 25) RETURNING id", [service!.id]);
  const [order] = await db.query<{ id: number }>('INSERT INTO bb_purchase_order (application_id, customer_id) VALUES ($1, -1) RETURNING id', [full]);
  const [cancelled] = await db.query<{ id: number }>('INSERT INTO bb_purchase_order (application_id, customer_id, cancelled) VALUES ($1, -1, 1) RETURNING id', [full]);
  const [otherOrder] = await db.query<{ id: number }>('INSERT INTO bb_purchase_order (application_id, customer_id) VALUES ($1, -1) RETURNING id', [other]);
  await db.query(`INSERT INTO bb_purchase_order_line (order_id, parent_mapping_id, article_mapping_id, unit_price, currency, quantity, amount, tax_code, tax) VALUES
    ($1, 0, $4, 400.00, 'NOK', 2.00, 800.00, 0, 0.00),
    ($1, $4, $5, 50.00, 'NOK', 3.00, 150.00, 25, 37.50),
    ($2, 0, $4, 400.00, 'NOK', 1.00, 400.00, 0, 0.00),
    ($3, 0, $4, 400.00, 'NOK', 9.00, 3600.00, 0, 0.00)`,
  [order!.id, cancelled!.id, otherOrder!.id, hallMapping!.id, serviceMapping!.id]);

  await db.query(`INSERT INTO bb_document_application (name, owner_id, category, description) VALUES
    ('plan.pdf', $1, 'other', 'Plan'), ('andres.pdf', $2, 'other', NULL)`, [full, other]);

  return { full, minimal, submitted, other, resources: { hall: hall!.id, room: room!.id, others: others!.id } };
}
