/**
 * The raw WebSocket front door: which upgrades are accepted (the path here; origin and caps in
 * policy/upgrade-policy.ts) and the `ws` events of an accepted connection, handed to the shared
 * ConnectionLifecycle.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Config } from './config/index.js';
import type { UpgradeIdentity } from './identity/binding.js';
import type { ConnectionLifecycle } from './lifecycle.js';
import type { Logger } from './log.js';
import { refuseUpgrade } from './http/refusal.js';
import { REFUSALS, type UpgradePolicy } from './policy/upgrade-policy.js';
import { ConnectionSlot } from './connection-slot.js';
import { corkUntilNextTurn } from './cork.js';
import { WebSocketConnection } from './ws-connection.js';

export const UPGRADE_PATHS = new Set(['/', '/wss', '/wss/']);

/** The connection each `ws` socket carries, for the listeners every socket shares. */
const connections = new ConnectionSlot<WebSocket, WebSocketConnection>();

export class Transport {
  readonly wss: WebSocketServer;
  private readonly listeners: {
    message: (this: WebSocket, data: RawData) => void;
    pong: (this: WebSocket) => void;
    error: (this: WebSocket, err: Error) => void;
    close: (this: WebSocket, code: number) => void;
  };

  constructor(
    config: Config,
    private readonly lifecycle: ConnectionLifecycle,
    private readonly log: Logger,
    /** Shared by every front door, so per-address counts and refusal logs are one. */
    private readonly policy: UpgradePolicy,
    /** False while the instance drains (admin view): upgrades are refused 503 so clients go elsewhere. */
    private readonly accepting: () => boolean = () => true,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: config.limits.maxMessageBytes,
      perMessageDeflate: false,
      clientTracking: false,
    });
    const transport = this;
    this.listeners = {
      message(data) { transport.onFrame(connections.of(this), data); },
      pong() { connections.of(this).markSeen(); },
      error(err) { log.debug({ conn: connections.of(this).id, err: err.message }, 'connection error'); },
      close(code) { lifecycle.closed(connections.of(this), code); },
    };
  }

  /** The HTTP server's 'upgrade' listener for every path but Socket.IO's. */
  readonly handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const pathname = (req.url ?? '/').split('?')[0] ?? '/';
    if (!UPGRADE_PATHS.has(pathname)) {
      this.policy.refused(REFUSALS.path, req);
      return refuseUpgrade(socket, REFUSALS.path);
    }
    if (!this.accepting()) return refuseUpgrade(socket, REFUSALS.capacity);
    const decision = this.policy.decide(req);
    if (!decision.ok) return refuseUpgrade(socket, decision.refusal);
    // The address's slot is taken now, so upgrades waiting for their identity count too; it is
    // given back when the socket closes, however the upgrade or the connection ends.
    const admission = this.policy.admit(decision.clientAddress);
    socket.on('close', admission.release); // 'close' comes once; `on` spares the wrapper `once` allocates
    // Who the client is is settled before the handshake completes (from cache, at once; else
    // bounded by WSS_AUTH_TIMEOUT_MS). Node leaves upgrade sockets without an error listener.
    const onError = (): void => { socket.destroy(); };
    socket.on('error', onError);
    void this.lifecycle.identify(req).then((identity) => {
      socket.off('error', onError);
      if (socket.destroyed) return; // the client gave up while we asked
      corkUntilNextTurn(socket);
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req, identity, admission.clientAddress));
    }).catch((err: unknown) => {
      this.log.error({ err }, 'upgrade failed');
      socket.destroy();
    });
  };

  /** The address's slot is given back by the socket's own 'close' (handleUpgrade), before `ws` reports it. */
  private accept(ws: WebSocket, req: IncomingMessage, identity: UpgradeIdentity, clientAddress: string): void {
    const conn = new WebSocketConnection(ws, clientAddress, this.lifecycle.connectionOptions, req.socket);
    connections.attach(ws, conn);
    const { message, pong, error, close } = this.listeners;
    ws.on('message', message);
    ws.on('pong', pong);
    ws.on('error', error);
    ws.on('close', close);
    this.lifecycle.opened(conn, identity);
  }

  private onFrame(conn: WebSocketConnection, data: RawData): void {
    const bytes = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;
    this.lifecycle.received(conn, bytes, () => JSON.parse((Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer)).toString('utf8')));
  }
}
