/**
 * Logging through pino. Info/debug lines go to stdout (WSS_LOG_ENABLED / WSS_DEBUG_LOG_ENABLED);
 * with WSS_LOG_TO_DOCKER warnings and errors go to stderr instead, so container log drivers
 * see them even when info logging is off. Cookies and session ids are never written in full.
 */
import pino, { type Logger, type DestinationStream } from 'pino';
import type { Config } from './config/index.js';

export type { Logger } from 'pino';

const REDACT = ['cookie', 'headers.cookie', 'req.headers.cookie', '*.cookie', 'sessionId', '*.sessionId', 'password', '*.password'];

export interface LogStreams {
  stdout?: DestinationStream;
  stderr?: DestinationStream;
  /** Also receives every line written (it keeps the warnings and errors: the admin view's recent lines). */
  recent?: { write(line: string): void };
}

export function createLogger(log: Config['log'], streams: LogStreams = {}): Logger {
  const out = streams.stdout ?? pino.destination({ fd: 1, sync: false });
  const err = streams.stderr ?? pino.destination({ fd: 2, sync: false });
  const targets: pino.StreamEntry[] = [];
  if (log.enabled) targets.push({ level: log.debug ? 'debug' : 'info', stream: out });
  if (log.toDocker) targets.push({ level: 'warn', stream: err });
  else if (!log.enabled) targets.push({ level: 'warn', stream: out });
  const recent = streams.recent;
  const level = log.enabled ? (log.debug ? 'debug' : 'info') : 'warn';
  return pino(
    {
      level, base: { service: 'portico-ws' }, redact: { paths: REDACT, censor: '[masked]' },
      // A tee, not a multistream target: with dedupe a warn-level target would take warnings away from stdout.
      ...(recent ? { hooks: { streamWrite: (line: string) => { recent.write(line); return line; } } } : {}),
    },
    // dedupe: a line goes only to the stream with the highest matching level, so a warning
    // lands on stderr once instead of on both streams.
    pino.multistream(targets, { dedupe: true }),
  );
}

/** A logger that writes nothing, for tests and embedding. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
