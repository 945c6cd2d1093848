/**
 * The Socket.IO front door for PorticoEstate's Next.js frontend (socketio-context.tsx): one
 * engine.io server behind `/wss/socket.io/` and `/socket.io/` on the gateway's own HTTP server,
 * both transports (polling, then the websocket upgrade). Every socket becomes a
 * SocketIoConnection handed to the shared ConnectionLifecycle, so handlers, rooms, identity,
 * limits and metrics are the raw endpoint's. Only the `message` event is served, both ways.
 * No Socket.IO adapter carries messages between instances: the relay's bus does, for every
 * kind of connection alike.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { Server as EngineServer, type Socket as EngineSocket } from 'engine.io';
import { Server as IoServer, type Socket } from 'socket.io';
import { CLOSE_CODES } from '../../protocol/constants.js';
import type { Config } from '../config/index.js';
import type { UpgradeIdentity } from '../identity/binding.js';
import type { Connection } from '../connection.js';
import type { ConnectionLifecycle } from '../lifecycle.js';
import type { Logger } from '../log.js';
import type { GatewayObserver } from '../observer.js';
import { REFUSALS, type Admission, type UpgradePolicy } from '../policy/upgrade-policy.js';
import { refuseRequest, refuseUpgrade } from '../http/refusal.js';
import { corkUntilNextTurn } from '../cork.js';
import { engineConnections, SocketIoConnection } from './connection.js';

/** Where the Next.js client connects (`path: '/wss/socket.io'`), and the same without the proxy prefix. */
export const SOCKET_IO_PATHS = ['/wss/socket.io/', '/socket.io/', '/wss/socket.io', '/socket.io'];
const SOCKET_IO_PATH_SET = new Set(SOCKET_IO_PATHS);

/** A socket that has not sent its namespace CONNECT within this is dropped. */
const CONNECT_TIMEOUT_MS = 10_000;
const ENGINE_PING_TIMEOUT_MS = 20_000;

interface SocketData { identity: UpgradeIdentity }
/** Engine.IO's sessions by id (protected in its types). */
type EngineClients = { clients: Record<string, EngineSocket> };

export class SocketIoFrontDoor {
  readonly engine: EngineServer;
  readonly io: IoServer;
  /** False once the gateway is shutting down. */
  private accepting = true;
  /** Socket.IO connections open now (the rest of engine.io's clients are still handshaking). */
  private attached = 0;
  private readonly attachedSockets = new WeakSet<EngineSocket>();
  /** The client address the upgrade policy worked out for a handshake request, until its session opens. */
  private readonly decidedAddresses = new WeakMap<IncomingMessage, string>();
  /** Each Engine.IO session's slot of its address (the per-address cap), held until it closes. */
  private readonly admissions = new WeakMap<EngineSocket, Admission>();
  /** Listeners shared by every connection (`this` is the emitting socket). */
  private readonly listeners: {
    data: (this: EngineSocket, data: string | Buffer) => void;
    heartbeat: (this: EngineSocket) => void;
    message: (this: Socket, message: unknown) => void;
    disconnect: (this: Socket, reason: string) => void;
  };

  constructor(
    config: Config,
    private readonly lifecycle: ConnectionLifecycle,
    private readonly log: Logger,
    private readonly observer: GatewayObserver,
    /** The raw endpoint's policy: one origin rule, capacity and per-address count for both doors. */
    private readonly policy: UpgradePolicy,
  ) {
    const allowed = config.limits.allowedOrigins;
    this.engine = new EngineServer({
      transports: ['polling', 'websocket'],
      pingInterval: config.timers.protocolPingMs,
      pingTimeout: Math.min(ENGINE_PING_TIMEOUT_MS, config.timers.protocolPingMs),
      maxHttpBufferSize: config.limits.maxMessageBytes,
      perMessageDeflate: false,
      cookie: false,
      // Pages of the PorticoEstate site are same-origin (proxied under /wss); other sites only
      // when WSS_ALLOWED_ORIGINS names them, and then with their cookies.
      ...(allowed.length > 0 ? { cors: { origin: allowed.includes('*') ? true : [...allowed], credentials: true } } : {}),
      // Every handshake (polling or websocket) passes the raw endpoint's upgrade policy.
      allowRequest: (req, callback) => {
        if (!this.accepting) {
          this.observer.connectionRefused('capacity');
          return callback('Server shutting down', false);
        }
        const decision = this.policy.decide(req);
        if (!decision.ok) return callback(decision.refusal.statusText, false);
        this.decidedAddresses.set(req, decision.clientAddress);
        callback(null, true);
      },
    });
    this.engine.on('connection', (socket: EngineSocket) => {
      const request = socket.request;
      const admission = this.policy.admit(this.decidedAddresses.get(request) ?? this.policy.proxies.describe(request).clientAddress);
      this.decidedAddresses.delete(request);
      this.admissions.set(socket, admission);
      socket.on('close', admission.release); // 'close' comes once; `on` spares the wrapper `once` allocates
    });
    this.io = new IoServer({ serveClient: false, connectTimeout: CONNECT_TIMEOUT_MS });
    this.io.bind(this.engine);
    // Who the client is, from the handshake's cookies (or ?token=), before it counts as connected.
    this.io.use((socket, next) => {
      this.lifecycle.identify(socket.request).then((identity) => {
        (socket.data as SocketData).identity = identity;
        // Socket.IO's CONNECT answer and a greeting ready in the same turn leave in one write.
        const tcp = SocketIoConnection.tcpSocketOf(socket.conn);
        if (tcp !== null) corkUntilNextTurn(tcp);
        next();
      }, (err: unknown) => {
        this.log.error({ err }, 'Socket.IO handshake failed');
        next(new Error('handshake failed'));
      });
    });
    this.io.on('connection', (socket) => this.accept(socket));
    const door = this;
    this.listeners = {
      data(data) { engineConnections.of(this).inboundBytes += data.length; },
      heartbeat() { engineConnections.of(this).markSeen(); },
      message(message) {
        const conn = engineConnections.of(this.conn);
        const bytes = conn.inboundBytes;
        conn.inboundBytes = 0;
        lifecycle.received(conn, bytes, () => message);
      },
      disconnect(reason) {
        const conn = engineConnections.of(this.conn);
        door.attached -= 1;
        lifecycle.closed(conn, conn.closedWith ?? closeCode(reason));
      },
    };
  }

  /** Whether the request is for the Socket.IO endpoint. */
  handles(req: IncomingMessage): boolean {
    return SOCKET_IO_PATH_SET.has((req.url ?? '/').split('?')[0] ?? '/');
  }

  readonly handleRequest = (req: IncomingMessage, res: ServerResponse): void => {
    if (this.foreignSessionUse(req)) refuseRequest(res, REFUSALS.origin);
    else this.engine.handleRequest(req, res);
  };

  readonly handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (this.foreignSessionUse(req)) refuseUpgrade(socket, REFUSALS.origin);
    else this.engine.handleUpgrade(req, socket, head);
  };

  /**
   * The requests after the handshake (polling, the websocket upgrade) carry the Engine.IO session
   * id; a page of another site must not use one either. Checked here, and only for requests that
   * carry one, rather than as an Engine.IO middleware run for every request and upgrade.
   */
  private foreignSessionUse(req: IncomingMessage): boolean {
    const url = req.url ?? '';
    if (!url.includes('sid=')) return false;
    const query = url.indexOf('?');
    if (query < 0 || !new URLSearchParams(url.slice(query + 1)).has('sid')) return false;
    if (!this.policy.foreignOrigin(req)) return false;
    this.policy.refused(REFUSALS.origin, req);
    return true;
  }

  /**
   * The first step of the gateway's shutdown, while the HTTP server still serves: refuse new
   * handshakes, close every Socket.IO connection (`reconnect_required`, then the disconnect) and
   * give Engine.IO up to `timeoutMs` to hand those over (a polling client takes them with its
   * next request, which may come on a new HTTP connection).
   */
  async drain(connections: Iterable<Connection>, timeoutMs: number): Promise<void> {
    this.accepting = false;
    for (const conn of connections) if (conn instanceof SocketIoConnection) conn.close(CLOSE_CODES.GOING_AWAY);
    // Sessions still handshaking have nothing to be told.
    for (const socket of Object.values((this.engine as unknown as EngineClients).clients)) if (!this.attachedSockets.has(socket)) socket.close(true);
    const deadline = Date.now() + timeoutMs;
    while (this.engine.clientsCount > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  /** Drop whatever is still open. */
  close(): void {
    this.engine.close();
  }

  /** Engine.IO sessions not (yet) Socket.IO connections: they count against the capacity. */
  get handshaking(): number {
    return Math.max(0, this.engine.clientsCount - this.attached);
  }

  private accept(socket: Socket): void {
    const { identity } = socket.data as SocketData;
    (socket.data as Partial<SocketData>).identity = undefined; // not kept for the connection's life
    const address = this.admissions.get(socket.conn)?.clientAddress ?? socket.handshake.address;
    const conn = new SocketIoConnection(socket, address, this.lifecycle.connectionOptions);
    this.attached += 1;
    this.attachedSockets.add(socket.conn);
    const { data, heartbeat, message, disconnect } = this.listeners;
    socket.conn.on('data', data);
    socket.conn.on('heartbeat', heartbeat);
    socket.on('message', message);
    socket.on('disconnect', disconnect);
    this.lifecycle.opened(conn, identity);
    forgetHandshake(socket);
  }
}

/** What `socket.handshake` says once the request behind it is let go. */
const FORGOTTEN_HANDSHAKE = Object.freeze({ headers: {}, query: {}, auth: {}, url: '', address: '', time: '', issued: 0, xdomain: false, secure: false });

/**
 * Nothing reads a connection's handshake request once it is accepted (its identity, address and
 * origin are settled by then), but Engine.IO keeps it for the socket's life and Socket.IO builds
 * `socket.handshake` from it. Letting both go frees the handshake object, and for a session that
 * began by polling the request itself (a websocket handshake's request stays referenced by
 * Engine.IO's upgrade response until the socket closes). Polling requests and the websocket
 * upgrade come with their own request objects, so Engine.IO does not need the first one again.
 */
function forgetHandshake(socket: Socket): void {
  (socket.conn as unknown as { request: unknown }).request = undefined;
  (socket as unknown as { handshake: unknown }).handshake = FORGOTTEN_HANDSHAKE;
}

/** A close code for the metrics, from Socket.IO's disconnect reason. */
function closeCode(reason: string): number {
  if (reason === 'client namespace disconnect' || reason === 'server namespace disconnect') return CLOSE_CODES.NORMAL;
  if (reason === 'server shutting down') return CLOSE_CODES.GOING_AWAY;
  return 1006; // transport close or error, ping timeout: gone without a close
}
