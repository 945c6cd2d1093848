/**
 * The life of an accepted connection, the same for every front door (raw WebSocket,
 * Socket.IO): registration, greeting, messages in (rate limit, dispatch, metrics), close.
 * Front doors only turn their transport's events into these calls.
 */
import type { IncomingMessage } from 'node:http';
import { CLOSE_CODES, ERROR_CODES } from '../protocol/constants.js';
import { BROADCAST_STREAM } from './broker/broker.js';
import { maskSessionId } from '../protocol/room-ids.js';
import type { Config } from './config/index.js';
import { SETTLED, type Connection, type ConnectionOptions } from './connection.js';
import type { HandlerContext } from './handlers/context.js';
import { announceRoomJoined, roomsField } from './handlers/dialect.js';
import { dispatchMessage } from './handlers/index.js';
import type { UpgradeIdentity } from './identity/binding.js';
import type { Logger } from './log.js';
import { KeyedThrottle } from './log-throttle.js';
import { connectionSuccess, errorReply, sessionIdRequired } from './messages.js';
import type { GatewayObserver } from './observer.js';

const RATE_ERROR_INTERVAL_MS = 1000;

export class ConnectionLifecycle {
  private readonly lastRateError = new WeakMap<Connection, number>();
  /** Warnings one connection can provoke, written once per kind and minute with a count of the rest. */
  private readonly connectionWarnings = new KeyedThrottle();
  /** Accepted requests whose identity is still being looked up; they count against the capacity. */
  private upgrading = 0;

  constructor(
    private readonly config: Config,
    private readonly ctx: HandlerContext,
    private readonly connections: Set<Connection>,
    private readonly log: Logger,
    private readonly observer: GatewayObserver,
  ) {
    this.connectionOptions = this.buildConnectionOptions();
  }

  /** Handshakes waiting for their identity; they count against WSS_MAX_CONNECTIONS (see the gateway's UpgradePolicy). */
  get pendingUpgrades(): number {
    return this.upgrading;
  }

  /** Settle who a handshake is from, holding a capacity slot while PorticoEstate is asked. */
  async identify(req: IncomingMessage): Promise<UpgradeIdentity> {
    this.upgrading += 1;
    try {
      return await this.ctx.identity.forUpgrade(req);
    } finally {
      this.upgrading -= 1;
    }
  }

  /** Options every connection is built with (limits, overflow, metrics): one object for all. */
  readonly connectionOptions: ConnectionOptions;

  private buildConnectionOptions(): ConnectionOptions {
    const { limits } = this.config;
    return {
      maxBufferedBytes: limits.maxBufferedBytes,
      rate: { perSecond: limits.ratePerSecond, burst: limits.rateBurst, closeAfter: limits.rateCloseAfter },
      onOverflow: (c) => {
        this.warnFor(c, 'client is not reading; disconnecting', { buffered: c.bufferedBytes });
        this.observer.slowConsumer?.();
        c.terminate();
      },
      onSent: (type, bytes) => this.observer.messageOut(type, bytes, 1),
    };
  }

  /** Register an accepted connection, put it in its session room and greet it. */
  opened(conn: Connection, identity: UpgradeIdentity): void {
    this.connections.add(conn);
    this.observer.connectionOpened();
    this.ctx.recovery.watch(conn);
    const { outcome } = identity;
    // A connection without a session cookie takes the session its valid token was minted for.
    const tokenSession = outcome.kind === 'resolved' && outcome.sessionId !== undefined ? { sessionId: outcome.sessionId, type: 'booking' as const } : null;
    const session = identity.session ?? tokenSession;
    if (session) this.ctx.setSession(conn, session.sessionId, session.type);
    this.ctx.identity.settle(conn, outcome);
    // The greeting leaves in one write once its stream positions are known (one history read:
    // broadcast, the session and user rooms); the connection's messages are handled meanwhile.
    conn.holdWrites();
    if (conn.sessionRoom === null) conn.send(sessionIdRequired());
    else announceRoomJoined(this.ctx.rooms, conn, conn.sessionRoom);
    awaitHandled(conn, this.ctx.recovery.positions([BROADCAST_STREAM, ...conn.roomIds()]).then((positions) => {
      const greeting = { ...connectionSuccess(conn.sessionRoom), ...roomsField(this.ctx.rooms, conn) };
      conn.send(positions ? { ...greeting, stream_positions: positions } : greeting);
      if (outcome.kind === 'invalid_token') {
        conn.send(errorReply(ERROR_CODES.INVALID_TOKEN, outcome.reason));
        this.observer.errorSent(ERROR_CODES.INVALID_TOKEN);
      }
    }).finally(() => conn.releaseWrites()));
    this.log.debug({ conn: conn.id, transport: conn.dialect, session: maskSessionId(conn.sessionId), ip: conn.remoteAddress }, 'connection opened');
  }

  /**
   * One message from the client (`bytes` on the wire; `decode` yields the message, or throws
   * for a frame that is not JSON), after the rate limit.
   */
  received(conn: Connection, bytes: number, message: () => unknown): void {
    // Messages that arrive after a close began (a flooding client does not wait for the close
    // handshake) are dropped unread: the reason was logged once when the close began.
    if (conn.closing) return;
    conn.markSeen();
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
    let msg: unknown;
    try {
      msg = message();
    } catch {
      conn.send(errorReply(ERROR_CODES.INVALID_JSON));
      this.observer.messageIn('invalid', bytes);
      this.observer.errorSent(ERROR_CODES.INVALID_JSON);
      return;
    }
    // A `recover` waits for every message before it (and the greeting) to be done, so it finds
    // the `subscribe`s sent before it joined even when one had to ask PorticoEstate; other
    // messages are handled at once.
    const before = conn.handled;
    const isRecover = (msg as { type?: unknown } | null)?.type === 'recover';
    const handled = (isRecover ? before.then(() => dispatchMessage(this.ctx, conn, msg)) : dispatchMessage(this.ctx, conn, msg)).then((outcome) => {
      this.observer.messageIn(outcome.type, bytes);
      if (outcome.error) this.observer.errorSent(outcome.error);
    });
    awaitHandled(conn, before === SETTLED ? handled : Promise.all([before, handled]).then(() => {}));
  }

  /** A warning a connection provoked, at most once per kind and minute across all connections. */
  private warnFor(conn: Connection, kind: string, fields: object): void {
    const held = this.connectionWarnings.take(kind);
    if (held !== null) this.log.warn({ conn: conn.id, ip: conn.remoteAddress, ...fields, ...(held > 0 ? { alsoSeen: held } : {}) }, kind);
  }

  /** The connection is gone: out of every room and the counts. */
  closed(conn: Connection, code: number): void {
    if (!this.connections.delete(conn)) return;
    conn.closing = true;
    this.ctx.rooms.leaveAll(conn);
    this.observer.connectionClosed(code);
    this.log.debug({ conn: conn.id, code }, 'connection closed');
  }
}

/**
 * `work` is what a later `recover` of the connection waits for; once it is done, the connection
 * goes back to the shared settled promise instead of keeping its own (memory per idle connection).
 */
function awaitHandled(conn: Connection, work: Promise<void>): void {
  conn.handled = work;
  const done = (): void => {
    if (conn.handled === work) conn.handled = SETTLED;
  };
  void work.then(done, done);
}
