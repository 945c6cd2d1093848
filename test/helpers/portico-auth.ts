/**
 * A real HTTP server standing in for PorticoEstate's endpoints the gateway asks on a client's
 * behalf, answering per session cookie:
 * - `GET /bookingfrontend/user`: 200 with the user's JSON (as BookingUserController::index,
 *   `ssn` included) for a logged-in session, 401 `{"error":"Not authenticated"}` otherwise;
 * - `GET /entity-access/{entityType}/{entityId}`: 200 when the session may see that entity, 403 otherwise.
 * It can be slowed down, taken down (stops listening on its port) and brought back on the same port.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';

export interface PorticoUser { ssn?: string; account_id?: number; name?: string }

export interface PorticoAuthServer {
  port: number;
  userUrl: string;
  /** Template for WSS_SUBSCRIBE_AUTH_URL. */
  accessUrl: string;
  /** Requests seen per path prefix ("/bookingfrontend/user", "/entity-access"). */
  requests: { user: number; access: number };
  /** Cookie headers received, in order (to check that only the session cookie is sent). */
  cookies: string[];
  login(sessionId: string, user: PorticoUser): void;
  logout(sessionId: string): void;
  allow(sessionId: string, entityType: string, entityId: string | number): void;
  /** Delay every answer by this many ms (0 = none). */
  setDelay(ms: number): void;
  /** Answer every request with this status (e.g. 500) instead; null = normal. */
  setFailure(status: number | null): void;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startPorticoAuthServer(): Promise<PorticoAuthServer> {
  const users = new Map<string, PorticoUser>();
  const access = new Set<string>();
  const requests = { user: 0, access: 0 };
  const cookies: string[] = [];
  let delay = 0;
  let failure: number | null = null;
  const sockets = new Set<import('node:net').Socket>();

  const sessionOf = (req: http.IncomingMessage): string | null => {
    const match = /(?:^|;\s*)(?:bookingfrontendsession|PHPSESSID)=([^;]+)/.exec(req.headers.cookie ?? '');
    return match ? decodeURIComponent(match[1]!) : null;
  };
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    cookies.push(req.headers.cookie ?? '');
    const url = new URL(req.url ?? '/', 'http://x');
    const answer = (status: number, body: unknown) => {
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const respond = () => {
      if (failure !== null) return answer(failure, { error: 'Internal server error' });
      const session = sessionOf(req);
      if (url.pathname === '/bookingfrontend/user') {
        requests.user += 1;
        const user = session ? users.get(session) : undefined;
        return user ? answer(200, { name: user.name ?? 'Kari Nordmann', ...user, needs_profile_creation: false }) : answer(401, { error: 'Not authenticated' });
      }
      const entity = /^\/entity-access\/([^/]+)\/([^/]+)$/.exec(url.pathname);
      if (entity) {
        requests.access += 1;
        const key = `${session}|${decodeURIComponent(entity[1]!)}|${decodeURIComponent(entity[2]!)}`;
        return session && access.has(key) ? answer(200, { ok: true }) : answer(403, { error: 'Forbidden' });
      }
      answer(404, { error: 'Not found' });
    };
    if (delay > 0) setTimeout(respond, delay);
    else respond();
  };

  let server: http.Server | null = null;
  let port = 0;
  const listen = async () => {
    server = http.createServer(handler);
    server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', () => resolve()));
    port = (server!.address() as AddressInfo).port;
  };
  const stop = async () => {
    const s = server;
    server = null;
    if (!s) return;
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  await listen();
  return {
    port,
    userUrl: `http://127.0.0.1:${port}/bookingfrontend/user`,
    accessUrl: `http://127.0.0.1:${port}/entity-access/{entityType}/{entityId}`,
    requests,
    cookies,
    login: (sessionId, user) => { users.set(sessionId, user); },
    logout: (sessionId) => { users.delete(sessionId); },
    allow: (sessionId, entityType, entityId) => { access.add(`${sessionId}|${entityType}|${entityId}`); },
    setDelay: (ms) => { delay = ms; },
    setFailure: (status) => { failure = status; },
    down: stop,
    up: listen,
    close: stop,
  };
}

export const TEST_AUTH_SECRET = 'test-secret-0123456789-abcdefghijklmnop';
export const TEST_USER_ROOM_KEY = 'test-user-room-key-0123456789abcdef';

/** An identity token as deploy/php/portico-ws-token.php mints it. */
export function mintToken(
  claims: { sid: string; identities?: Record<string, string> },
  opts: { secret?: string; expiresInS?: number; alg?: 'HS256' | 'HS512' } = {},
): Promise<string> {
  const exp = Math.floor(Date.now() / 1000) + (opts.expiresInS ?? 300);
  return new SignJWT({ sid: claims.sid, identities: claims.identities ?? {} })
    .setProtectedHeader({ alg: opts.alg ?? 'HS256', typ: 'JWT' })
    .setExpirationTime(exp)
    .sign(new TextEncoder().encode(opts.secret ?? TEST_AUTH_SECRET));
}
