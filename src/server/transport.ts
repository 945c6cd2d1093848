/**
 * The WebSocket side of the HTTP server: which upgrades are accepted (path, origin, capacity)
 * and the life of an accepted connection (greeting, frames in, close).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { CLOSE_CODES, ERROR_CODES } from '../protocol/constants.js';
import { maskSessionId } from '../protocol/room-ids.js';
import type { Config } from './config/index.js';
import type { Connection } from './connection.js';
import { WebSocketConnection } from './ws-connection.js';
import type { HandlerContext } from './handlers/context.js';
import { dispatch } from './handlers/index.js';
import type { Logger } from './log.js';
import { connectionSuccess, errorReply, sessionIdRequired } from './messages.js';
import type { GatewayObserver } from './observer.js';
import type { UpgradeIdentity } from './identity/binding.js';

export const UPGRADE_PATHS = new Set(['/', '/wss', '/wss/']);
const RATE_ERROR_INTERVAL_MS = 1000;

export class Transport {
  readonly wss: WebSocketServer;
  private readonly lastRateError = new WeakMap<Connection, number>();
  private upgrading = 0;

  constructor(
    private readonly config: Config,
    private readonly ctx: HandlerContext,
    private readonly connections: Set<Connection>,
    private readonly log: Logger,
    private readonly observer: GatewayObserver,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: config.limits.maxMessageBytes,
      perMessageDeflate: false,
      clientTracking: false,
    });
  }

  /** The HTTP server's 'upgrade' listener. */
  readonly handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const pathname = (req.url ?? '/').split('?')[0] ?? '/';
    if (!UPGRADE_PATHS.has(pathname)) return this.refuse(socket, 404, 'Not Found', 'path');
    const origin = req.headers.origin;
    const allowed = this.config.limits.allowedOrigins;
    if (allowed.length > 0 && (!origin || !allowed.includes(origin))) return this.refuse(socket, 403, 'Forbidden', 'origin');
    if (this.connections.size + this.upgrading >= this.config.limits.maxConnections) return this.refuse(socket, 503, 'Service Unavailable', 'capacity');
    // Who the client is is settled before the handshake completes (from cache, at once; else
    // bounded by WSS_AUTH_TIMEOUT_MS). Node leaves upgrade sockets without an error listener.
    const onError = (): void => { socket.destroy(); };
    socket.on('error', onError);
    this.upgrading += 1; // counted against the capacity while the identity is being looked up
    void this.ctx.identity.forUpgrade(req).then((identity) => {
      this.upgrading -= 1;
      socket.off('error', onError);
      if (socket.destroyed) return; // the client gave up while we asked
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req, identity));
    }).catch((err: unknown) => {
      this.log.error({ err }, 'upgrade failed');
      socket.destroy();
    });
  };

  private refuse(socket: Duplex, status: number, text: string, reason: 'path' | 'origin' | 'capacity'): void {
    this.observer.connectionRefused(reason);
    this.log.info({ status, reason }, 'upgrade refused');
    const body = JSON.stringify({ error: reason, message: text });
    // Node's HTTP server drops its own 'error' listener on upgrade sockets: without this one, a
    // peer resetting while the refusal is written would be an uncaught exception (process exit).
    socket.on('error', () => socket.destroy());
    // Once the refusal is written, let go of the socket (as ws's own refusals do): a peer that
    // never closes its side would otherwise hold it, and a file descriptor, for good.
    socket.once('finish', () => socket.destroy());
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }

  private accept(ws: WebSocket, req: IncomingMessage, identity: UpgradeIdentity): void {
    const { limits } = this.config;
    const conn = new WebSocketConnection(ws, req.socket.remoteAddress ?? 'unknown', {
      maxBufferedBytes: limits.maxBufferedBytes,
      rate: { perSecond: limits.ratePerSecond, burst: limits.rateBurst, closeAfter: limits.rateCloseAfter },
      onOverflow: (c) => {
        this.log.warn({ conn: c.id, buffered: c.bufferedBytes }, 'client is not reading; disconnecting');
        c.terminate();
      },
      onSent: (type, bytes) => this.observer.messageOut(type, bytes, 1),
      socket: req.socket,
    });
    this.connections.add(conn);
    this.observer.connectionOpened();

    ws.on('message', (data) => this.onFrame(conn, data));
    ws.on('pong', () => conn.markSeen());
    ws.on('error', (err) => this.log.debug({ conn: conn.id, err: err.message }, 'connection error'));
    ws.on('close', (code) => {
      this.connections.delete(conn);
      this.ctx.rooms.leaveAll(conn);
      this.observer.connectionClosed(code);
      this.log.debug({ conn: conn.id, code }, 'connection closed');
    });

    const { outcome } = identity;
    // A connection without a session cookie takes the session its valid token was minted for.
    const tokenSession = outcome.kind === 'resolved' && outcome.sessionId !== undefined ? { sessionId: outcome.sessionId, type: 'booking' as const } : null;
    const session = identity.session ?? tokenSession;
    if (session) this.ctx.setSession(conn, session.sessionId, session.type);
    this.ctx.identity.settle(conn, outcome);
    if (session) {
      conn.send(connectionSuccess(conn.sessionRoom));
    } else {
      conn.send(sessionIdRequired());
      conn.send(connectionSuccess(null));
    }
    if (outcome.kind === 'invalid_token') {
      conn.send(errorReply(ERROR_CODES.INVALID_TOKEN, `Identity token refused: ${outcome.reason}`));
      this.observer.errorSent(ERROR_CODES.INVALID_TOKEN);
    }
    this.log.debug({ conn: conn.id, session: maskSessionId(conn.sessionId), ip: conn.remoteAddress }, 'connection opened');
  }

  private onFrame(conn: Connection, data: RawData): void {
    conn.markSeen();
    const bytes = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;
    const decision = conn.rate.take();
    if (decision === 'abusive') {
      this.log.warn({ conn: conn.id }, 'sustained message flood; closing with 1008');
      this.observer.errorSent(ERROR_CODES.RATE_LIMITED);
      conn.close(CLOSE_CODES.POLICY_VIOLATION, 'Rate limit exceeded');
      return;
    }
    if (decision === 'limited') {
      const now = Date.now();
      if (now - (this.lastRateError.get(conn) ?? 0) >= RATE_ERROR_INTERVAL_MS) {
        this.lastRateError.set(conn, now);
        conn.send(errorReply(ERROR_CODES.RATE_LIMITED, 'Too many messages; slow down'));
        this.observer.errorSent(ERROR_CODES.RATE_LIMITED);
      }
      return;
    }
    const text = (Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer)).toString('utf8');
    void dispatch(this.ctx, conn, text).then((outcome) => {
      this.observer.messageIn(outcome.type, bytes);
      if (outcome.error) this.observer.errorSent(outcome.error);
    });
  }
}
