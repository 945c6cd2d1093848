/**
 * Settings only the command-line tools use (daemon pid and log files, timeouts, where /health
 * is), read from the environment at the CLI's composition root. The gateway's own settings stay
 * in `src/server/config`; `portico-ws config` lists both.
 */
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../server/config/index.js';
import type { Env } from '../server/config/parse.js';
import { ConfigReader, documentVariables, type VariableDoc } from '../server/config/reader.js';

export interface CliSettings {
  /** Pid file of the daemon started by `start --daemon`. Default `<tmpdir>/portico-ws.pid`. */
  pidFile: string;
  /** Log file (stdout and stderr) of the daemon. Default `<tmpdir>/portico-ws.log`. */
  logFile: string;
  /** `start --daemon` waits this long for /health to answer. Default 15 s. */
  startTimeoutMs: number;
  /** `stop` waits this long after SIGTERM before SIGKILL. Default 10 s (longer than WSS_SHUTDOWN_TIMEOUT_MS). */
  stopTimeoutMs: number;
  /** The health URL to check; default built from WSS_HOST and WSS_PORT. */
  healthUrl: string | undefined;
  /** A health request taking longer counts as unhealthy. Default 5 s. */
  healthTimeoutMs: number;
}

function build(r: ConfigReader): CliSettings {
  return {
    pidFile: path.resolve(r.string('WSS_PID_FILE', path.join(os.tmpdir(), 'portico-ws.pid'), 'Pid file written by "start --daemon", read by stop/status/health', '<tmpdir>/portico-ws.pid')),
    logFile: path.resolve(r.string('WSS_LOG_FILE', path.join(os.tmpdir(), 'portico-ws.log'), 'Log file of the daemon (its stdout and stderr), read by "logs"', '<tmpdir>/portico-ws.log')),
    startTimeoutMs: r.int('WSS_START_TIMEOUT_MS', 15_000, 100, 600_000, '"start --daemon" fails if /health does not answer within this'),
    stopTimeoutMs: r.int('WSS_STOP_TIMEOUT_MS', 10_000, 100, 600_000, '"stop" sends SIGKILL if the process is still running this long after SIGTERM'),
    healthUrl: r.optional('WSS_HEALTH_URL', 'URL "status"/"health" check (default http://<WSS_HOST or 127.0.0.1>:<WSS_PORT>/health)'),
    healthTimeoutMs: r.int('WSS_HEALTH_TIMEOUT_MS', 5000, 100, 600_000, 'A /health request slower than this counts as unhealthy'),
  };
}

export function loadCliSettings(env: Env): CliSettings {
  return build(new ConfigReader(env));
}

export function describeCliSettings(): VariableDoc[] {
  return documentVariables(build);
}

/** Where the gateway configured by `config` answers /health, seen from this host. */
export function healthUrlFor(config: Config, settings: CliSettings): string {
  if (settings.healthUrl) return settings.healthUrl;
  const host = config.host === '0.0.0.0' || config.host === '' ? '127.0.0.1' : config.host === '::' ? '[::1]' : config.host.includes(':') ? `[${config.host}]` : config.host;
  return `http://${host}:${config.port}/health`;
}
