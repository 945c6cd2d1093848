/**
 * Where to connect: DATABASE_URL on its own when set; otherwise PorticoEstate's header.inc.php
 * (WSS_PORTICO_CONFIG) overridden field by field by DB_HOST/DB_PORT/DB_NAME/DB_USER/DB_PASS,
 * with PostgreSQL's usual defaults for what neither gives. Every field is explicit, so `pg`
 * never falls back to PG* environment variables behind the configuration's back.
 */
import type { DatabaseConfig } from '../config/index.js';
import { readPorticoDatabaseSettings, type PorticoDatabaseSettings } from './portico-config.js';

export interface ConnectionTarget {
  connectionString?: string;
  host?: string;
  port?: number;
  database?: string;
  user?: string;
  password?: string;
}

export interface ResolvedConnection {
  target: ConnectionTarget;
  /** `postgres://user@host:port/name` without the password, for logs. */
  description: string;
  /** Where the settings came from, for the start-up log line. */
  source: 'DATABASE_URL' | 'DB_*' | 'WSS_PORTICO_CONFIG';
}

export const DEFAULTS = { host: '127.0.0.1', port: 5432, database: 'portico', user: 'portico' } as const;

/** Resolve the connection target; `readPortico` is injectable for tests. Throws PorticoConfigError for an unusable file. */
export function resolveConnection(
  db: DatabaseConfig,
  readPortico: (file: string) => PorticoDatabaseSettings = readPorticoDatabaseSettings,
): ResolvedConnection {
  if (db.url !== undefined) {
    const url = new URL(db.url);
    const description = `postgres://${url.username ? `${decodeURIComponent(url.username)}@` : ''}${url.host}${url.pathname}`;
    return { target: { connectionString: db.url }, description, source: 'DATABASE_URL' };
  }
  const file = db.porticoConfig !== undefined ? readPortico(db.porticoConfig) : undefined;
  const target: ConnectionTarget = {
    host: db.host ?? file?.host ?? DEFAULTS.host,
    port: db.port ?? file?.port ?? DEFAULTS.port,
    database: db.name ?? file?.name ?? DEFAULTS.database,
    user: db.user ?? file?.user ?? DEFAULTS.user,
  };
  const password = db.password ?? file?.password;
  if (password !== undefined) target.password = password;
  return {
    target,
    description: `postgres://${target.user}@${target.host}:${target.port}/${target.database}`,
    source: file ? 'WSS_PORTICO_CONFIG' : 'DB_*',
  };
}
