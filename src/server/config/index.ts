/**
 * The gateway's configuration: parsed and validated once at start-up into one typed object,
 * then passed down. Nothing below the composition root reads `process.env`.
 */
import os from 'node:os';
import { normalizeOrigin } from '../policy/origin.js';
import { compileTrustedProxies } from '../policy/proxy.js';
import { ConfigReader, documentVariables, type VariableDoc } from './reader.js';
import { ConfigError, type Env } from './parse.js';
import { checkUserRoomKey, readAuth, type AuthConfig } from './auth.js';

export { ConfigError, type Env } from './parse.js';
export type { VariableDoc } from './reader.js';
export { identityEnabled, type AuthConfig, type IdentityFieldConfig } from './auth.js';

export type ClientBroadcastPolicy = 'all' | 'chat' | 'none';

export interface Config {
  host: string;
  port: number;
  /** Identifies this process among gateways sharing a Redis or a spool folder. */
  instanceId: string;
  log: { enabled: boolean; debug: boolean; toDocker: boolean };
  spool: { enabled: boolean; dir: string; scanIntervalMs: number; settleMs: number; claimTimeoutMs: number; maxBytes: number };
  timers: {
    protocolPingMs: number; serverPingMs: number; roomPingMs: number;
    roomCleanupMs: number; roomIdleMs: number; shutdownTimeoutMs: number;
  };
  limits: {
    maxMessageBytes: number; maxConnections: number; maxBufferedBytes: number;
    ratePerSecond: number; rateBurst: number; rateCloseAfter: number;
    /** Origins accepted besides the same-origin rule, normalised (`scheme://host[:port]`); `*` accepts any. */
    allowedOrigins: string[];
    maxConnectionsPerIp: number;
    maxRoomsPerConnection: number;
  };
  /** Peers whose X-Forwarded-For/-Host/-Proto are believed: addresses, CIDRs, or loopback/linklocal/uniquelocal. */
  trustedProxies: string[];
  clientBroadcast: ClientBroadcastPolicy;
  database: DatabaseConfig;
  redis: RedisConfig;
  /** `POST /publish`: disabled (404) while `token` is unset. */
  publish: { token: string | undefined; maxBodyBytes: number };
  /** `GET /metrics` (Prometheus text format) when the composition root installs the metrics observer. */
  metrics: { enabled: boolean };
  delivery: DeliveryConfig;
  /** Identity (user rooms) and entity-room authorization; all off by default. */
  auth: AuthConfig;
  /** `GET /admin` and `/admin/api/*`: disabled (404) while `token` is unset. */
  admin: { token: string | undefined; timeoutMs: number; forgetAfterMs: number };
}

/** Stream history, recovery on reconnect, and what an instance keeps while Redis is down. */
export interface DeliveryConfig {
  /** Publications kept per stream; 0 turns history, positions and recovery off. */
  historySize: number;
  historyTtlMs: number;
  /** How long a stream's offset and epoch outlive its last publication. */
  historyMetaTtlMs: number;
  /** Messages accepted while Redis is down, kept for the other instances. */
  outageBuffer: number;
  /** History reads of `recover` requests running at once on this instance. */
  recoverConcurrency: number;
}

/**
 * Redis connection and cluster-bus settings. Redis is enabled when REDIS_URL or REDIS_HOST is
 * set; the URL's host, port and db win over the separate fields, whose user name and password
 * fill in what the URL lacks.
 */
export interface RedisConfig {
  enabled: boolean;
  /** `redis://[user:password@]host:port/db` or `rediss://` for TLS. */
  url: string | undefined;
  host: string;
  port: number;
  username: string | undefined;
  password: string | undefined;
  db: number;
  tls: boolean;
  /** Prefix of the gateways' own channel(s); the legacy PHP channels are never prefixed. */
  prefix: string;
  retryBaseMs: number;
  retryMaxMs: number;
  connectTimeoutMs: number;
  /**
   * PING interval per connection; an unanswered PING at the next tick means Redis hangs or the
   * network dropped without a reset, so the connection is torn down and retried. 0 = off.
   */
  livenessMs: number;
  /** Publishes awaiting Redis's reply beyond this are dropped (remote side only) instead of queued. */
  maxPendingPublishes: number;
}

/**
 * PostgreSQL (PorticoEstate's database) for partial applications. Enabled when DATABASE_URL,
 * DB_HOST, DB_NAME or WSS_PORTICO_CONFIG is set. DATABASE_URL, when set, is used on its own;
 * otherwise the DB_* values override what WSS_PORTICO_CONFIG's header.inc.php says.
 */
export interface DatabaseConfig {
  enabled: boolean;
  /** `postgres://user:password@host:port/name`; never logged with its password. */
  url: string | undefined;
  host: string | undefined;
  port: number | undefined;
  name: string | undefined;
  user: string | undefined;
  password: string | undefined;
  /** Path of a PorticoEstate `config/header.inc.php` to read db_host/db_port/db_name/db_user/db_pass from. */
  porticoConfig: string | undefined;
  statementTimeoutMs: number;
  poolSize: number;
  connectTimeoutMs: number;
  /** How often the database is checked while connected; while disconnected it is retried with backoff up to this. */
  healthIntervalMs: number;
  /** Time zone of PorticoEstate's wall-clock timestamps (bb_application_date.from_/to_). */
  timezone: string;
}

const HOUR = 3_600_000;

function build(r: ConfigReader): Config {
  const config: Config = {
    host: r.string('WSS_HOST', '0.0.0.0', 'Address to listen on'),
    port: r.int('WSS_PORT', 8080, 0, 65535, 'Port for HTTP and the WebSocket upgrade (0 = any free port)'),
    instanceId: r.string('WSS_INSTANCE_ID', `${os.hostname()}-${process.pid}`, 'Name of this instance in logs, metrics and spool claims', '<hostname>-<pid>'),
    log: {
      enabled: r.bool('WSS_LOG_ENABLED', true, 'Write info logs (JSON lines on stdout)'),
      debug: r.bool('WSS_DEBUG_LOG_ENABLED', false, 'Also write debug logs'),
      toDocker: r.bool('WSS_LOG_TO_DOCKER', true, 'Send warnings and errors to stderr (always, even with WSS_LOG_ENABLED=false)'),
    },
    spool: {
      enabled: r.bool('WSS_SPOOL_ENABLED', true, 'Deliver spool files written by the PHP application'),
      dir: r.string('WSS_SPOOL_DIR', os.tmpdir(), 'Folder the PHP application writes websocket_*.json files into', 'OS temp dir (/tmp)'),
      scanIntervalMs: r.int('WSS_SPOOL_SCAN_MS', 1000, 10, HOUR, 'Safety-net scan interval besides the file watcher'),
      settleMs: r.int('WSS_SPOOL_SETTLE_MS', 2000, 0, HOUR, 'How long an unparseable spool file may still be being written before it is moved to failed/'),
      claimTimeoutMs: r.int('WSS_SPOOL_CLAIM_TIMEOUT_MS', 60_000, 1000, 24 * HOUR, 'An instance sharing the spool folder whose heartbeat is this old (crashed) is no longer waited for; files it has not delivered are removed once the live ones have'),
      maxBytes: r.int('WSS_SPOOL_MAX_BYTES', 1_048_576, 256, 64 * 1024 * 1024, 'Largest spool file read; a larger one is moved to failed/ unread'),
    },
    timers: {
      protocolPingMs: r.int('WSS_PROTOCOL_PING_MS', 30_000, 10, HOUR, 'WebSocket ping interval; a connection that misses its pong is terminated'),
      serverPingMs: r.int('WSS_SERVER_PING_MS', 60_000, 10, HOUR, 'Interval of the JSON server_ping to every connection'),
      roomPingMs: r.int('WSS_ROOM_PING_MS', 240_000, 10, 24 * HOUR, 'Interval of room_ping to every entity room'),
      roomCleanupMs: r.int('WSS_ROOM_CLEANUP_MS', 480_000, 10, 24 * HOUR, 'Interval of the entity-room cleanup'),
      roomIdleMs: r.int('WSS_ROOM_IDLE_MS', 480_000, 10, 24 * HOUR, 'Entity-room members silent this long (and not alive) are removed'),
      shutdownTimeoutMs: r.int('WSS_SHUTDOWN_TIMEOUT_MS', 5000, 0, 10 * 60_000, 'On SIGTERM/SIGINT, connections still open after this are terminated'),
    },
    limits: {
      maxMessageBytes: r.int('WSS_MAX_MESSAGE_BYTES', 65_536, 128, 64 * 1024 * 1024, 'Largest client frame; larger closes the connection with 1009'),
      maxConnections: r.int('WSS_MAX_CONNECTIONS', 10_000, 1, 10_000_000, 'Upgrades beyond this are refused with HTTP 503'),
      maxBufferedBytes: r.int('WSS_MAX_BUFFERED_BYTES', 4 * 1024 * 1024, 1024, 1024 * 1024 * 1024, 'A client whose unsent data exceeds this is disconnected'),
      ratePerSecond: r.int('WSS_RATE_LIMIT', 50, 1, 1_000_000, 'Messages per second a connection may send (token bucket refill)'),
      rateBurst: r.int('WSS_RATE_BURST', 100, 1, 1_000_000, 'Messages a connection may send in a burst'),
      rateCloseAfter: r.int('WSS_RATE_CLOSE_AFTER', 200, 1, 1_000_000, 'Rate-limited messages within 10 s after which the connection is closed with 1008'),
      allowedOrigins: r.list('WSS_ALLOWED_ORIGINS', 'Origins accepted besides the gateway\'s own host (comma list, e.g. https://booking.example.org); * accepts any site (warned at start-up). Browsers from other origins get HTTP 403'),
      maxConnectionsPerIp: r.int('WSS_MAX_CONNECTIONS_PER_IP', 200, 1, 10_000_000, 'Open connections one client address (IPv6: one /64) may hold; more are refused with HTTP 429. A trusted proxy that sends no X-Forwarded-For is not capped'),
      maxRoomsPerConnection: r.int('WSS_MAX_ROOMS_PER_CONNECTION', 100, 1, 1_000_000, 'Entity rooms one connection may subscribe to; more get error TOO_MANY_ROOMS'),
    },
    trustedProxies: r.list('WSS_TRUSTED_PROXIES', 'Proxies whose X-Forwarded-For/-Host/-Proto are believed (comma list of addresses, CIDRs, loopback, linklocal, uniquelocal)', ['loopback']),
    clientBroadcast: r.oneOf('WSS_CLIENT_BROADCAST', 'all', ['all', 'chat', 'none'] as const, 'Which client-originated broadcasts are relayed: all, only chat, or none'),
    database: readDatabase(r),
    redis: readRedis(r),
    publish: {
      token: r.optional('WSS_PUBLISH_TOKEN', 'Bearer token for POST /publish (alias /wss-publish); unset disables the endpoint (404)'),
      maxBodyBytes: r.int('WSS_PUBLISH_MAX_BYTES', 1_048_576, 256, 64 * 1024 * 1024, 'Largest POST /publish body; larger is answered 413'),
    },
    metrics: {
      enabled: r.bool('WSS_METRICS_ENABLED', true, 'Serve Prometheus metrics on GET /metrics'),
    },
    delivery: {
      historySize: r.int('WSS_HISTORY_SIZE', 100, 0, 100_000, 'Messages kept per stream (room or broadcast) for recovery on reconnect; 0 turns history, stream positions and recovery off'),
      historyTtlMs: 1000 * r.int('WSS_HISTORY_TTL_S', 300, 1, 7 * 24 * 3600, 'Seconds a stream keeps its messages after its last one (the recovery window)'),
      historyMetaTtlMs: 1000 * r.int('WSS_HISTORY_META_TTL_S', 3600, 1, 30 * 24 * 3600, "Seconds a stream's position and epoch outlive its last message (at least WSS_HISTORY_TTL_S)"),
      outageBuffer: r.int('WSS_OUTAGE_BUFFER', 10_000, 0, 10_000_000, 'Messages accepted while Redis is down kept for the other instances (and history); beyond it they reach local clients only'),
      recoverConcurrency: r.int('WSS_RECOVER_CONCURRENCY', 32, 1, 10_000, 'History reads for recover requests running at once (a reconnect storm queues behind them)'),
    },
    auth: readAuth(r),
    admin: {
      token: r.optional('WSS_ADMIN_TOKEN', 'Bearer token of the admin view (GET /admin and /admin/api/*); unset disables both (404)'),
      timeoutMs: r.int('WSS_ADMIN_TIMEOUT_MS', 1500, 50, 60_000, 'How long the admin view waits for the other instances to answer; one that does not is shown as "not answering"'),
      forgetAfterMs: r.int('WSS_ADMIN_FORGET_MS', 180_000, 1000, 24 * HOUR, 'An instance silent this long is no longer listed by the admin view'),
    },
  };
  checkUserRoomKey(config.auth, config.redis.enabled);
  if (config.delivery.historyMetaTtlMs < config.delivery.historyTtlMs) {
    throw new ConfigError('WSS_HISTORY_META_TTL_S', `must be at least WSS_HISTORY_TTL_S (${config.delivery.historyTtlMs / 1000})`);
  }
  // Claims an earlier version left in .portico-ws-processing are returned to the folder after the
  // timeout (see spool.ts); one still settling in an old instance must not be, or it is delivered twice.
  if (config.spool.claimTimeoutMs <= config.spool.settleMs) {
    throw new ConfigError('WSS_SPOOL_CLAIM_TIMEOUT_MS', `must be more than WSS_SPOOL_SETTLE_MS (${config.spool.settleMs})`);
  }
  try {
    config.limits.allowedOrigins = config.limits.allowedOrigins.map((o) => (o === '*' ? o : normalizeOrigin(o)));
  } catch (err) {
    throw new ConfigError('WSS_ALLOWED_ORIGINS', `must be * or http(s) origins like https://booking.example.org (${(err as Error).message})`);
  }
  try {
    compileTrustedProxies(config.trustedProxies);
  } catch (err) {
    throw new ConfigError('WSS_TRUSTED_PROXIES', `must be addresses, CIDRs or loopback/linklocal/uniquelocal (${(err as Error).message})`);
  }
  if (config.limits.rateBurst < config.limits.ratePerSecond) {
    throw new ConfigError('WSS_RATE_BURST', `must be at least WSS_RATE_LIMIT (${config.limits.ratePerSecond})`);
  }
  return config;
}

/** The REDIS_* variables; shared with the publisher so both read them with one meaning. */
export function readRedis(r: ConfigReader): RedisConfig {
  const url = r.optional('REDIS_URL', 'Redis URL (redis:// or rediss://); its host, port and db win over REDIS_HOST/PORT/DB, REDIS_USERNAME/PASSWORD fill in what it lacks. Redis is off when neither REDIS_URL nor REDIS_HOST is set');
  const host = r.optional('REDIS_HOST', 'Redis host; setting it (or REDIS_URL) enables Redis ingress and the multi-instance bus');
  const redis: RedisConfig = {
    enabled: url !== undefined || host !== undefined,
    url,
    host: host ?? '127.0.0.1',
    port: r.int('REDIS_PORT', 6379, 1, 65535, 'Redis port'),
    username: r.optional('REDIS_USERNAME', 'Redis ACL user name'),
    password: r.optional('REDIS_PASSWORD', 'Redis password (never logged)'),
    db: r.int('REDIS_DB', 0, 0, 1_000_000, 'Redis database number (pub/sub channels are shared by all databases)'),
    tls: r.bool('REDIS_TLS', false, 'Connect to Redis over TLS (implied by a rediss:// URL)'),
    prefix: r.string('REDIS_PREFIX', 'portico-ws:', 'Prefix of the channel the gateway instances use among themselves'),
    retryBaseMs: r.int('REDIS_RETRY_BASE_MS', 100, 1, HOUR, 'First reconnect delay; doubles per attempt, jittered'),
    retryMaxMs: r.int('REDIS_RETRY_MAX_MS', 5000, 1, HOUR, 'Upper bound of the reconnect delay'),
    connectTimeoutMs: r.int('REDIS_CONNECT_TIMEOUT_MS', 5000, 100, HOUR, 'A connection attempt that takes longer is abandoned and retried'),
    livenessMs: r.int('REDIS_LIVENESS_MS', 5000, 0, HOUR, 'PING interval on each Redis connection; one left unanswered for an interval marks Redis down and reconnects (0 = off; TCP keepalive only)'),
    maxPendingPublishes: r.int('REDIS_MAX_PENDING_PUBLISHES', 10_000, 1, 10_000_000, 'Publishes awaiting a Redis reply beyond this are not sent to other instances (local delivery still happens)'),
  };
  if (url !== undefined && !/^rediss?:\/\//.test(url)) throw new ConfigError('REDIS_URL', `must start with redis:// or rediss://, got "${url.replace(/\/\/[^@/]*@/, '//***@')}"`);
  if (redis.retryMaxMs < redis.retryBaseMs) throw new ConfigError('REDIS_RETRY_MAX_MS', `must be at least REDIS_RETRY_BASE_MS (${redis.retryBaseMs})`);
  return redis;
}

function readDatabase(r: ConfigReader): DatabaseConfig {
  const url = r.optional('DATABASE_URL', 'PostgreSQL URL of the PorticoEstate database (postgres://user:pass@host:port/name); used on its own when set');
  const host = r.optional('DB_HOST', 'PorticoEstate database host (overrides WSS_PORTICO_CONFIG); setting it (or DB_NAME, DATABASE_URL, WSS_PORTICO_CONFIG) enables partial applications');
  const portText = r.optional('DB_PORT', 'PorticoEstate database port (unset: the header.inc.php value, else 5432)');
  const name = r.optional('DB_NAME', 'PorticoEstate database name (unset: the header.inc.php value, else portico)');
  const user = r.optional('DB_USER', 'PorticoEstate database user (unset: the header.inc.php value, else portico)');
  const password = r.optional('DB_PASS', 'PorticoEstate database password (never logged)');
  const porticoConfig = r.optional('WSS_PORTICO_CONFIG', "Path of PorticoEstate's config/header.inc.php to read the database settings from, as the original server did");
  const database: DatabaseConfig = {
    enabled: url !== undefined || host !== undefined || name !== undefined || porticoConfig !== undefined,
    url, host, port: undefined, name, user, password, porticoConfig,
    statementTimeoutMs: r.int('WSS_DB_STATEMENT_TIMEOUT_MS', 5000, 10, HOUR, 'A look-up statement running longer is cancelled by PostgreSQL and the client gets the fixed error reply'),
    poolSize: r.int('WSS_DB_POOL_SIZE', 10, 1, 1000, 'Most PostgreSQL connections this instance opens'),
    connectTimeoutMs: r.int('WSS_DB_CONNECT_TIMEOUT_MS', 5000, 100, HOUR, 'Connecting (or waiting for a free pooled connection) longer than this fails the look-up'),
    healthIntervalMs: r.int('WSS_DB_HEALTH_INTERVAL_MS', 10_000, 50, HOUR, 'Database check interval while connected; while disconnected it is retried with backoff up to this'),
    timezone: r.string('WSS_DB_TIMEZONE', 'Europe/Oslo', "Time zone of PorticoEstate's stored wall-clock times, used to print application dates in ISO 8601"),
  };
  if (portText !== undefined) {
    if (!/^\d+$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) throw new ConfigError('DB_PORT', `must be a port number (1-65535), got "${portText}"`);
    database.port = Number(portText);
  }
  if (url !== undefined && !/^postgres(ql)?:\/\//.test(url)) throw new ConfigError('DATABASE_URL', `must start with postgres:// or postgresql://, got "${url.replace(/\/\/[^@/]*@/, '//***@')}"`);
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: database.timezone });
  } catch {
    throw new ConfigError('WSS_DB_TIMEZONE', `must be an IANA time zone name, got "${database.timezone}"`);
  }
  return database;
}

/** Parse and validate; throws ConfigError naming the offending variable. */
export function loadConfig(env: Env = process.env): Config {
  return build(new ConfigReader(env));
}

/** Every variable with its default and meaning, in the order they are read. */
export function describeConfig(): VariableDoc[] {
  return documentVariables(build);
}

/** A config for in-process use (tests, embedding), with overrides merged over the defaults. */
export function defaultConfig(overrides: DeepPartial<Config> = {}): Config {
  return merge(loadConfig({}), overrides);
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] };

function merge<T>(base: T, patch: DeepPartial<T>): T {
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    const current = out[key];
    out[key] = value && typeof value === 'object' && !Array.isArray(value) && current && typeof current === 'object'
      ? merge(current, value as DeepPartial<typeof current>)
      : value;
  }
  return out as T;
}
