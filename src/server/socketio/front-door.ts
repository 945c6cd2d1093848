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
import { Server as EngineServer } from 'engine.io';
import { Server as IoServer, type Socket } from 'socket.io';
import { CLOSE_CODES } from '../../protocol/constants.js';
import type { Config } from '../config/index.js';
import type { UpgradeIdentity } from '../identity/binding.js';
import type { Connection } from '../connection.js';
import type { ConnectionLifecycle } from '../lifecycle.js';
import type { Logger } from '../log.js';
import type { GatewayObserver } from '../observer.js';
import { SocketIoConnection } from './connection.js';

/** Where the Next.js client connects (`path: '/wss/socket.io'`), and the same without the proxy prefix. */
export const SOCKET_IO_PATHS = ['/wss/socket.io/', '/socket.io/', '/wss/socket.io', '/socket.io'];
const SOCKET_IO_PATH_SET = new Set(SOCKET_IO_PATHS);

/** Decide on a Socket.IO handshake request: null to accept, else why not. */
export type HandshakeCheck = (req: IncomingMessage) => { reason: 'origin' | 'capacity'; message: string } | null;

/** A socket that has not sent its namespace CONNECT within this is dropped (it holds no slot meanwhile). */
const CONNECT_TIMEOUT_MS = 10_000;
const ENGINE_PING_TIMEOUT_MS = 20_000;

interface SocketData { identity: UpgradeIdentity }

export class SocketIoFrontDoor {
  readonly engine: EngineServer;
  readonly io: IoServer;
  /** False once the gateway is shutting down. */
  private accepting = true;

  constructor(
    config: Config,
    private readonly lifecycle: ConnectionLifecycle,
    private readonly log: Logger,
    private readonly observer: GatewayObserver,
    private readonly checkHandshake: HandshakeCheck,
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
      ...(allowed.length > 0 ? { cors: { origin: [...allowed], credentials: true } } : {}),
      allowRequest: (req, callback) => {
        const refusal = this.accepting ? this.checkHandshake(req) : { reason: 'capacity' as const, message: 'Server shutting down' };
        if (refusal === null) return callback(null, true);
        this.observer.connectionRefused(refusal.reason);
        this.log.info({ status: 403, reason: refusal.reason, transport: 'socketio' }, 'upgrade refused');
        callback(refusal.message, false);
      },
    });
    this.io = new IoServer({ serveClient: false, connectTimeout: CONNECT_TIMEOUT_MS });
    this.io.bind(this.engine);
    // Who the client is, from the handshake's cookies (or ?token=), before it counts as connected.
    this.io.use((socket, next) => {
      this.lifecycle.identify(socket.request).then((identity) => {
        (socket.data as SocketData).identity = identity;
        next();
      }, (err: unknown) => {
        this.log.error({ err }, 'Socket.IO handshake failed');
        next(new Error('handshake failed'));
      });
    });
    this.io.on('connection', (socket) => this.accept(socket));
  }

  /** Whether `pathname` is the Socket.IO endpoint's. */
  handles(req: IncomingMessage): boolean {
    return SOCKET_IO_PATH_SET.has((req.url ?? '/').split('?')[0] ?? '/');
  }

  readonly handleRequest = (req: IncomingMessage, res: ServerResponse): void => {
    this.engine.handleRequest(req, res);
  };

  readonly handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    this.engine.handleUpgrade(req, socket, head);
  };

  /**
   * The first step of the gateway's shutdown, while the HTTP server still serves: refuse new
   * handshakes, close every Socket.IO connection (`reconnect_required`, then the disconnect) and
   * give Engine.IO up to `timeoutMs` to hand those over (a polling client takes them with its
   * next request, which may come on a new HTTP connection).
   */
  async drain(connections: Iterable<Connection>, timeoutMs: number): Promise<void> {
    this.accepting = false;
    for (const conn of connections) if (conn instanceof SocketIoConnection) conn.close(CLOSE_CODES.GOING_AWAY);
    const deadline = Date.now() + timeoutMs;
    while (this.engine.clientsCount > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  /** Drop whatever is still open. */
  close(): void {
    this.engine.close();
  }

  private accept(socket: Socket): void {
    const { identity } = socket.data as SocketData;
    (socket.data as Partial<SocketData>).identity = undefined; // not kept for the connection's life
    // Socket.IO has already sent the CONNECT reply; a connection the server cannot take any
    // more (capacity reached while PorticoEstate was asked) is turned away now.
    if (!this.lifecycle.hasRoom()) {
      this.observer.connectionRefused('capacity');
      socket.disconnect(true);
      return;
    }
    const conn = new SocketIoConnection(socket, socket.handshake.address, this.lifecycle.connectionOptions);
    // Bytes of the client's packets since its last `message`, for the inbound byte metric.
    let inboundBytes = 0;
    socket.conn.on('data', (data: string | Buffer) => { inboundBytes += data.length; });
    socket.conn.on('heartbeat', () => conn.markSeen());
    socket.on('message', (message: unknown) => {
      const bytes = inboundBytes;
      inboundBytes = 0;
      this.lifecycle.received(conn, bytes, () => message);
    });
    socket.on('disconnect', (reason) => this.lifecycle.closed(conn, conn.closedWith ?? closeCode(reason)));
    this.lifecycle.opened(conn, identity);
  }
}

/** A close code for the metrics, from Socket.IO's disconnect reason. */
function closeCode(reason: string): number {
  if (reason === 'client namespace disconnect' || reason === 'server namespace disconnect') return CLOSE_CODES.NORMAL;
  if (reason === 'server shutting down') return CLOSE_CODES.GOING_AWAY;
  return 1006; // transport close or error, ping timeout: gone without a close
}
