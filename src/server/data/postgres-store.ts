/**
 * `PartialApplicationsStore` on PorticoEstate's PostgreSQL database through a `pg` pool.
 *
 * - One look-up = one pooled connection, one read-only snapshot, one statement for the session's
 *   applications and one per child table for all of them (postgres-queries.ts): no N+1.
 * - PostgreSQL cancels a statement after `statementTimeoutMs`; the client side gives up a little
 *   later in case the server does not answer at all, so a hung database cannot pile up requests.
 * - A connection that died in the pool (pg_terminate_backend, server restart) is discarded and
 *   the look-up retried on another, so the request after such an event succeeds.
 * - `status` is 'connected' or 'disconnected', changed only in `setStatus` (which logs the
 *   transition): a failed connect marks it disconnected, and a background check, retried with
 *   backoff, marks it connected again when the database returns.
 * - Every pool and client 'error' event has a listener, so a killed backend never crashes the process.
 */
import pg from 'pg';
import { backoffDelay } from '../../protocol/backoff.js';
import { maskSessionId } from '../../protocol/room-ids.js';
import type { Logger } from '../log.js';
import { classifyFailure, describeFailure, type FailureKind } from './postgres-errors.js';
import { APPLICATIONS, CHILD_QUERIES, type ChildName, type ChildRows, type Row } from './postgres-queries.js';
import type { ConnectionTarget } from './postgres-settings.js';
import { shapeApplications } from './postgres-shape.js';
import { porticoTypes } from './postgres-values.js';
import { DatabaseUnavailableError, type PartialApplicationsStore, type StoreStatus } from './store.js';

export interface PostgresStoreOptions {
  /** Where to connect (see postgres-settings.ts). */
  target: ConnectionTarget;
  /** Server-side statement timeout, ms (WSS_DB_STATEMENT_TIMEOUT_MS, default 5000). */
  statementTimeoutMs: number;
  /** Most connections (WSS_DB_POOL_SIZE, default 10). */
  poolSize: number;
  /** Connect / wait-for-a-free-connection timeout, ms (WSS_DB_CONNECT_TIMEOUT_MS, default 5000). */
  connectTimeoutMs: number;
  /** Check interval while connected, and the cap of the retry backoff while not, ms (default 10 000). */
  healthIntervalMs: number;
  /** Time zone of stored wall-clock times (WSS_DB_TIMEZONE, default Europe/Oslo). */
  timezone: string;
  /** `application_name` the backends show in pg_stat_activity. Default `portico-ws`. */
  applicationName?: string;
}

/** Extra time the client waits beyond the statement timeout before it gives up on the server. */
const CLIENT_GRACE_MS = 1000;
/**
 * Attempts for a look-up whose connection died under it, each on another connection: enough to
 * get past every pooled connection killed at once (at most 11), bounded because a server that
 * is really gone fails at connect, which is never retried.
 */
const maxAttempts = (poolSize: number): number => Math.min(poolSize, 10) + 1;
/** First retry delay of the background check while disconnected, ms. */
const RETRY_BASE_MS = 100;

export class PostgresStore implements PartialApplicationsStore {
  private currentStatus: 'connected' | 'disconnected' = 'disconnected';
  private readonly pool: pg.Pool;
  private readonly timezone: string;
  private readonly healthIntervalMs: number;
  private readonly maxAttempts: number;
  private checkTimer: NodeJS.Timeout | null = null;
  private checking: Promise<void> | null = null;
  private failedChecks = 0;
  private closed = false;
  private lastConnectError = '';
  /** Statements sent for look-ups since start (applications + child tables), for tests and metrics. */
  statements = 0;

  constructor(options: PostgresStoreOptions, private readonly log: Logger) {
    this.timezone = options.timezone;
    this.healthIntervalMs = options.healthIntervalMs;
    this.maxAttempts = maxAttempts(options.poolSize);
    this.pool = new pg.Pool({
      ...options.target,
      max: options.poolSize,
      connectionTimeoutMillis: options.connectTimeoutMs,
      idleTimeoutMillis: 30_000,
      statement_timeout: options.statementTimeoutMs,
      query_timeout: options.statementTimeoutMs + CLIENT_GRACE_MS,
      // Guards against a look-up that died between BEGIN and COMMIT holding a snapshot open.
      idle_in_transaction_session_timeout: options.statementTimeoutMs + CLIENT_GRACE_MS,
      application_name: options.applicationName ?? 'portico-ws',
      keepAlive: true,
      types: porticoTypes,
    });
    // An idle client whose backend is killed emits 'error' on the pool (which then drops it).
    this.pool.on('error', (err) => this.log.warn({ err: describeFailure(err) }, 'postgres: idle connection lost'));
    // A checked-out client can emit 'error' too (connection lost between queries): the failing
    // query reports it, this listener only keeps the event from crashing the process.
    this.pool.on('connect', (client) => {
      client.on('error', (err) => this.log.debug({ err: describeFailure(err) }, 'postgres: connection error'));
    });
  }

  get status(): StoreStatus {
    return this.currentStatus;
  }

  /** First check, then keep checking in the background. Resolves when the first check is done, whatever its result. */
  async start(): Promise<void> {
    await this.check();
  }

  async findPartialApplications(sessionId: string): Promise<unknown[]> {
    if (this.closed) throw new DatabaseUnavailableError('store closed');
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await this.lookupOnce(sessionId);
        this.setStatus('connected');
        return result;
      } catch (failure) {
        const { kind, err } = failure as LookupFailure;
        const session = maskSessionId(sessionId);
        if (kind === 'lost' && attempt < this.maxAttempts) {
          this.log.info({ err: describeFailure(err), session, attempt }, 'postgres: connection lost during look-up, retrying on another');
          continue;
        }
        if (kind === 'timeout') {
          this.log.warn({ err: describeFailure(err), session }, 'postgres: look-up cancelled by the statement timeout');
          throw new Error('partial applications look-up cancelled by the statement timeout', { cause: err });
        }
        if (kind === 'query') throw err instanceof Error ? err : new Error(String(err));
        this.markDown(err);
        throw new DatabaseUnavailableError('database not reachable', { cause: err });
      }
    }
  }

  private async lookupOnce(sessionId: string): Promise<unknown[]> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw fail('unavailable', err);
    }
    let broken = false;
    try {
      // One snapshot for all statements, so children always match the applications read.
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      this.statements++;
      const apps = await client.query<Row>({ ...APPLICATIONS, values: [sessionId] });
      const children = { dates: [], resources: [], orderLines: [], agegroups: [], audience: [], documents: [] } as ChildRows;
      if (apps.rows.length > 0) {
        const ids = apps.rows.map((r) => r.id);
        for (const name of Object.keys(CHILD_QUERIES) as ChildName[]) {
          this.statements++;
          children[name] = (await client.query<Row>({ ...CHILD_QUERIES[name], values: [ids] })).rows;
        }
      }
      await client.query('COMMIT');
      // Belt and braces: the WHERE clause already says so, but never hand out another session's row.
      const own = apps.rows.filter((r) => r.session_id === sessionId);
      return shapeApplications(own, children, this.timezone);
    } catch (err) {
      broken = true;
      throw fail(classifyFailure(err, 'query'), err);
    } finally {
      // A connection that failed mid-transaction is discarded rather than cleaned up: cheaper
      // to reconnect than to reason about its state (aborted transaction, dead socket, timeout).
      client.release(broken);
    }
  }

  private setStatus(to: 'connected' | 'disconnected'): void {
    if (this.currentStatus === to || this.closed) return;
    const from = this.currentStatus;
    this.currentStatus = to;
    if (to === 'connected') {
      this.failedChecks = 0;
      this.lastConnectError = '';
      this.log.info({ from, to }, 'postgres: status');
    } else {
      this.log.warn({ from, to }, 'postgres: status');
    }
    this.scheduleCheck();
  }

  private markDown(err: unknown): void {
    const detail = describeFailure(err);
    // Log each distinct reason once per outage, not once per request.
    if (detail.message !== this.lastConnectError) {
      this.lastConnectError = detail.message;
      this.log.warn({ err: detail }, 'postgres: database not reachable');
    }
    this.setStatus('disconnected');
  }

  /** One `SELECT 1` on a pooled connection; updates the status and schedules the next check. */
  private check(): Promise<void> {
    this.checking ??= (async () => {
      try {
        let client: pg.PoolClient;
        try {
          client = await this.pool.connect();
        } catch (err) {
          throw fail('unavailable', err);
        }
        try {
          await client.query('SELECT 1');
          client.release();
        } catch (err) {
          client.release(true);
          throw fail(classifyFailure(err, 'query'), err);
        }
        this.setStatus('connected');
      } catch (failure) {
        this.failedChecks++;
        const { kind, err } = failure as LookupFailure;
        // The server answered (an error, or a cancelled statement): it is there.
        if (kind === 'query' || kind === 'timeout') this.setStatus('connected');
        else this.markDown(err);
      } finally {
        this.checking = null;
        this.scheduleCheck();
      }
    })();
    return this.checking;
  }

  private scheduleCheck(): void {
    if (this.closed) return;
    if (this.checkTimer) clearTimeout(this.checkTimer);
    const delay = this.currentStatus === 'connected'
      ? this.healthIntervalMs
      : backoffDelay(Math.max(this.failedChecks, 1), { baseMs: Math.min(RETRY_BASE_MS, this.healthIntervalMs), maxMs: this.healthIntervalMs });
    this.checkTimer = setTimeout(() => {
      this.checkTimer = null;
      void this.check();
    }, delay);
    this.checkTimer.unref();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.checkTimer) clearTimeout(this.checkTimer);
    await this.checking?.catch(() => {});
    await this.pool.end().catch((err: unknown) => this.log.debug({ err: describeFailure(err) }, 'postgres: pool end failed'));
  }
}

interface LookupFailure { kind: FailureKind; err: unknown }
const fail = (kind: FailureKind, err: unknown): LookupFailure => ({ kind, err });

/** Build a store and run its first check (a database that is down does not stop the gateway). */
export async function createPostgresStore(options: PostgresStoreOptions, log: Logger): Promise<PostgresStore> {
  const store = new PostgresStore(options, log);
  await store.start();
  return store;
}
