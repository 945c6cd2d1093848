/**
 * What every comparison server shares, so they do the same work as portico-ws on the bench's
 * paths: read the session cookie on upgrade (`bookingfrontendsession`, else `PHPSESSID`), join
 * that session's room, greet with `connection_success`, subscribe to Redis `notifications`, and
 * route each message: `target: "session"` → that session's room, anything else → everyone.
 * Settings come from the environment the runner sets (PORT, REDIS_PORT).
 */
import { Redis } from 'ioredis';
import { sessionFromCookies } from '../../src/server/session.js';

export const PORT = Number(process.env.PORT ?? 0);
export const REDIS_PORT = Number(process.env.REDIS_PORT ?? 6379);

/** The session id from the Cookie header, parsed exactly as portico-ws does. */
export function sessionFromCookie(header: string | undefined): string | null {
  return sessionFromCookies(header)?.sessionId ?? null;
}

export const greeting = (session: string | null): string =>
  JSON.stringify({ type: 'connection_success', message: 'Successfully connected to WebSocket server', roomId: session, timestamp: new Date().toISOString() });

export interface Routed { session: string | null; text: string; message: Record<string, unknown> }

/** Parse one `notifications` message the way the servers route it; null if it is not an object. */
export function route(text: string): Routed | null {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return null;
  }
  if (!message || typeof message !== 'object') return null;
  const m = message as Record<string, unknown>;
  const session = m.target === 'session' && typeof m.sessionId === 'string' ? m.sessionId : null;
  return { session, text, message: m };
}

/** Subscribe to `notifications` and hand every message to `onMessage`. */
export async function subscribeNotifications(onMessage: (text: string) => void): Promise<Redis> {
  const sub = new Redis({ host: '127.0.0.1', port: REDIS_PORT, lazyConnect: true });
  await sub.connect();
  await sub.subscribe('notifications');
  sub.on('message', (_channel: string, text: string) => onMessage(text));
  return sub;
}

/** Session room membership: session id → sockets. */
export class SessionRooms<T> {
  private readonly rooms = new Map<string, Set<T>>();
  join(session: string, member: T): void {
    let set = this.rooms.get(session);
    if (!set) this.rooms.set(session, (set = new Set()));
    set.add(member);
  }
  leave(session: string, member: T): void {
    const set = this.rooms.get(session);
    if (set && set.delete(member) && set.size === 0) this.rooms.delete(session);
  }
  members(session: string): Iterable<T> {
    return this.rooms.get(session) ?? [];
  }
}

/** Exit cleanly on SIGTERM/SIGINT so `--cpu-prof` can write its profile. */
export function exitOnSignal(): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => process.exit(0));
}
