/**
 * The WebSocket side of the HTTP server: which upgrades are accepted (the path here; origin and
 * caps in policy/upgrade-policy.ts) and the life of an accepted connection (greeting, frames
 * in, close).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { CLOSE_CODES, ERROR_CODES } from '../protocol/constants.js';
import { maskSessionId } from '../protocol/room-ids.js';
import type { Config } from './config/index.js';
import { BROADCAST_STREAM } from './broker/broker.js';
import { Connection } from './connection.js';
import type { HandlerContext } from './handlers/context.js';
import { dispatch } from './handlers/index.js';
import type { Logger } from './log.js';
import { KeyedThrottle } from './log-throttle.js';
import { connectionSuccess, errorReply, sessionIdRequired } from './messages.js';
import type { GatewayObserver } from './observer.js';
import { REFUSALS, type Admission, type UpgradePolicy, type UpgradeRefusal } from './policy/upgrade-policy.js';
import type { UpgradeIdentity } from './identity/binding.js';

export const UPGRADE_PATHS = new Set(['/', '/wss', '/wss/']);
const RATE_ERROR_INTERVAL_MS = 1000;

export class Transport {
  readonly wss: WebSocketServer;
  private readonly lastRateError = new WeakMap<Connection, number>();
  /** Warnings one connection can provoke, written once per kind and minute with a count of the rest. */
  private readonly connectionWarnings = new KeyedThrottle();
  private upgrading = 0;

  constructor(
    private readonly config: Config,
    private readonly ctx: HandlerContext,
    private readonly connections: Set<Connection>,
    private readonly log: Logger,
    private readonly observer: GatewayObserver,
    /** Shared by every front door, so per-address counts and refusal logs are one. */
    private readonly policy: UpgradePolicy,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: config.limits.maxMessageBytes,
      perMessageDeflate: false,
      clientTracking: false,
    });
  }

  /** Upgrades waiting for their identity; they count against WSS_MAX_CONNECTIONS (see the gateway's UpgradePolicy). */
  get pendingUpgrades(): number {
    return this.upgrading;
  }

  /** The HTTP server's 'upgrade' listener. */
  readonly handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const pathname = (req.url ?? '/').split('?')[0] ?? '/';
    if (!UPGRADE_PATHS.has(pathname)) {
      this.policy.refused(REFUSALS.path, req);
      return this.refuse(socket, REFUSALS.path);
    }
    const decision = this.policy.decide(req);
    if (!decision.ok) return this.refuse(socket, decision.refusal);
    // The address's slot is taken now, so upgrades waiting for their identity count too; it is
    // given back when the socket closes, however the upgrade or the connection ends.
    const admission = this.policy.admit(decision.clientAddress);
    socket.once('close', admission.release);
    // Who the client is is settled before the handshake completes (from cache, at once; else
    // bounded by WSS_AUTH_TIMEOUT_MS). Node leaves upgrade sockets without an error listener.
    const onError = (): void => { socket.destroy(); };
    socket.on('error', onError);
    this.upgrading += 1; // counted against the capacity while the identity is being looked up
    void this.ctx.identity.forUpgrade(req).then((identity) => {
      this.upgrading -= 1;
      socket.off('error', onError);
      if (socket.destroyed) return; // the client gave up while we asked
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req, identity, admission));
    }).catch((err: unknown) => {
      this.log.error({ err }, 'upgrade failed');
      socket.destroy();
    });
  };

  private refuse(socket: Duplex, refusal: UpgradeRefusal): void {
    const { status, statusText, reason } = refusal;
    const body = JSON.stringify({ error: reason, message: statusText });
    // Node's HTTP server drops its own 'error' listener on upgrade sockets: without this one, a
    // peer resetting while the refusal is written would be an uncaught exception (process exit).
    socket.on('error', () => socket.destroy());
    // Once the refusal is written, let go of the socket (as ws's own refusals do): a peer that
    // never closes its side would otherwise hold it, and a file descriptor, for good.
    socket.once('finish', () => socket.destroy());
    socket.end(`HTTP/1.1 ${status} ${statusText}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }

  /** A warning a connection provoked, at most once per kind and minute across all connections. */
  private warnFor(conn: Connection, kind: string, fields: object): void {
    const held = this.connectionWarnings.take(kind);
    if (held !== null) this.log.warn({ conn: conn.id, ip: conn.remoteAddress, ...fields, ...(held > 0 ? { alsoSeen: held } : {}) }, kind);
  }

  private accept(ws: WebSocket, req: IncomingMessage, identity: UpgradeIdentity, admission: Admission): void {
    const { limits } = this.config;
    const conn = new Connection(ws, admission.clientAddress, {
      maxBufferedBytes: limits.maxBufferedBytes,
      rate: { perSecond: limits.ratePerSecond, burst: limits.rateBurst, closeAfter: limits.rateCloseAfter },
      onOverflow: (c) => {
        this.warnFor(c, 'client is not reading; disconnecting', { buffered: c.bufferedBytes });
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
      admission.release();
      this.connections.delete(conn);
      this.ctx.rooms.leaveAll(conn);
      this.observer.connectionClosed(code);
      this.log.debug({ conn: conn.id, code }, 'connection closed');
    });

    this.ctx.recovery.watch(conn);
    const { outcome } = identity;
    // A connection without a session cookie takes the session its valid token was minted for.
    const tokenSession = outcome.kind === 'resolved' && outcome.sessionId !== undefined ? { sessionId: outcome.sessionId, type: 'booking' as const } : null;
    const session = identity.session ?? tokenSession;
    if (session) this.ctx.setSession(conn, session.sessionId, session.type);
    this.ctx.identity.settle(conn, outcome);
    if (!session) conn.send(sessionIdRequired());
    // The greeting carries where the connection's streams stand (one history read: broadcast, the
    // session and user rooms); the connection's frames are handled after it.
    conn.handled = this.ctx.recovery.positions([BROADCAST_STREAM, ...conn.rooms]).then((positions) => {
      const greeting = connectionSuccess(conn.sessionRoom);
      conn.send(positions ? { ...greeting, stream_positions: positions } : greeting);
      if (outcome.kind === 'invalid_token') {
        conn.send(errorReply(ERROR_CODES.INVALID_TOKEN, outcome.reason));
        this.observer.errorSent(ERROR_CODES.INVALID_TOKEN);
      }
    });
    this.log.debug({ conn: conn.id, session: maskSessionId(conn.sessionId), ip: conn.remoteAddress }, 'connection opened');
  }

  private onFrame(conn: Connection, data: RawData): void {
    // Frames that arrive after a close began (a flooding client does not wait for the close
    // handshake) are dropped unread: the reason was logged once when the close began.
    if (conn.closing) return;
    conn.markSeen();
    const bytes = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;
    const decision = conn.rate.take();
    if (decision === 'abusive') {
      this.warnFor(conn, 'sustained message flood; closing with 1008', {});
      this.observer.errorSent(ERROR_CODES.RATE_LIMITED);
      conn.close(CLOSE_CODES.POLICY_VIOLATION, 'Rate limit exceeded');
      return;
    }
    if (decision === 'limited') {
      const now = Date.now();
      if (now - (this.lastRateError.get(conn) ?? 0) >= RATE_ERROR_INTERVAL_MS) {
        this.lastRateError.set(conn, now);
        conn.send(errorReply(ERROR_CODES.RATE_LIMITED));
        this.observer.errorSent(ERROR_CODES.RATE_LIMITED);
      }
      return;
    }
    const text = (Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer)).toString('utf8');
    // A `recover` waits for every frame before it (and the greeting) to be done, so it finds the
    // `subscribe`s sent before it joined even when one had to ask PorticoEstate; other frames are
    // handled at once, as before. (A frame merely mentioning "recover" waits too: harmless.)
    const before = conn.handled;
    const handled = (text.includes('"recover"') ? before.then(() => dispatch(this.ctx, conn, text)) : dispatch(this.ctx, conn, text)).then((outcome) => {
      this.observer.messageIn(outcome.type, bytes);
      if (outcome.error) this.observer.errorSent(outcome.error);
    });
    conn.handled = Promise.all([before, handled]).then(() => {});
  }
}
