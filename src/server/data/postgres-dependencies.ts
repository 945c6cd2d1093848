/**
 * The composition root's entry to the database: resolve where to connect from the typed config
 * (DATABASE_URL, DB_*, WSS_PORTICO_CONFIG), log where (never the password), and build the store.
 */
import { ConfigError, type DatabaseConfig } from '../config/index.js';
import type { Logger } from '../log.js';
import { PorticoConfigError } from './portico-config.js';
import { resolveConnection } from './postgres-settings.js';
import { createPostgresStore, type PostgresStore } from './postgres-store.js';

/** Throws ConfigError (WSS_PORTICO_CONFIG) for an unusable header.inc.php; a database that is down only logs. */
export async function createDatabaseStore(config: DatabaseConfig, log: Logger): Promise<PostgresStore> {
  let resolved: ReturnType<typeof resolveConnection>;
  try {
    resolved = resolveConnection(config);
  } catch (err) {
    if (err instanceof PorticoConfigError) throw new ConfigError('WSS_PORTICO_CONFIG', err.message);
    throw err;
  }
  const { target, description, source } = resolved;
  log.info({ database: description, source, statementTimeoutMs: config.statementTimeoutMs, poolSize: config.poolSize }, 'postgres: partial applications enabled');
  return createPostgresStore({
    target,
    statementTimeoutMs: config.statementTimeoutMs,
    poolSize: config.poolSize,
    connectTimeoutMs: config.connectTimeoutMs,
    healthIntervalMs: config.healthIntervalMs,
    timezone: config.timezone,
  }, log);
}
