/**
 * What a `pg` failure means for the gateway. Only the kind is decided here; the store decides
 * what to do (retry on a fresh connection, mark the database disconnected, or just fail the
 * one look-up).
 */

export type FailureKind =
  /** Cannot get a connection at all: server down, database gone, login refused, pool timeout. */
  | 'unavailable'
  /** An established connection died under us (pg_terminate_backend, server restart, network). */
  | 'lost'
  /** The server cancelled the statement after the statement timeout: it is alive but slow or locked. */
  | 'timeout'
  /** The server answered but did not respond in time on the client side: treat as unreachable. */
  | 'unresponsive'
  /** Anything else (SQL error, missing table): this look-up fails, the database is still there. */
  | 'query';

export type Phase = 'connect' | 'query';

/** SQLSTATEs meaning the session or server is going away, or the database does not exist. */
const LOST_CODES = new Set(['57P01', '57P02', '57P03', '57P05', '3D000', '53300']);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const LOST_MESSAGES = /connection terminated|connection ended|not queryable|client has encountered a connection error|terminating connection|server closed the connection|socket/i;

export function classifyFailure(err: unknown, phase: Phase): FailureKind {
  if (phase === 'connect') return 'unavailable';
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : '';
  if (code === '57014') return 'timeout';
  if (/query read timeout/i.test(message)) return 'unresponsive';
  if (LOST_CODES.has(code) || code.startsWith('08') || NETWORK_CODES.has(code) || (!code && LOST_MESSAGES.test(message))) return 'lost';
  return 'query';
}

/** A short, credential-free description of an error for logs. */
export function describeFailure(err: unknown): { code?: string; message: string } {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  return code ? { code, message } : { message };
}
