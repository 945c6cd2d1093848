/**
 * A connection on the Socket.IO endpoint. Writes go straight to its Engine.IO socket as
 * pre-encoded `message` events (packet.ts): no `socket.emit`, no encoding per recipient.
 * Engine.IO keeps one order per socket and batches what the transport cannot take yet.
 */
import type { Socket as EngineSocket } from 'engine.io';
import type { Socket } from 'socket.io';
import { CLOSE_CODES, TEXTS } from '../../protocol/constants.js';
import { Connection, type ConnectionOptions, type Dialect } from '../connection.js';
import type { PreparedFrame } from '../fanout.js';
import { reconnectRequired } from '../messages.js';
import { messageEvent, socketIoPacket } from './packet.js';

/** What of engine.io's websocket transport we read: the `ws` socket's unsent bytes. */
type WsTransport = { name: string; socket?: { bufferedAmount?: number } };

export class SocketIoConnection extends Connection {
  readonly dialect: Dialect = 'socketio';
  private readonly engine: EngineSocket;
  /** The code this side closed with, for the metrics (Socket.IO itself has none). */
  closedWith: number | null = null;
  /** Bytes written to Engine.IO that it has not yet handed to its transport (polling between requests). */
  private queuedBytes = 0;

  constructor(readonly socket: Socket, remoteAddress: string, opts: ConnectionOptions) {
    super(remoteAddress, opts);
    this.engine = socket.conn;
    this.engine.on('flush', () => { this.queuedBytes = 0; });
  }

  get isOpen(): boolean {
    return !this.closing && this.socket.connected;
  }

  get bufferedBytes(): number {
    const transport = this.engine.transport as unknown as WsTransport;
    return this.queuedBytes + (transport.name === 'websocket' ? transport.socket?.bufferedAmount ?? 0 : 0);
  }

  sendPrepared(prepared: PreparedFrame): boolean {
    if (!this.isOpen) return false;
    const packet = (prepared.socketIo ??= socketIoPacket(prepared.text));
    return this.write(packet.data, packet.options);
  }

  sendFrame(frame: string): boolean {
    if (!this.isOpen) return false;
    return this.write(messageEvent(frame), undefined);
  }

  private write(data: string, options: object | undefined): boolean {
    if (this.bufferedBytes > this.opts.maxBufferedBytes) {
      this.opts.onOverflow(this);
      return false;
    }
    this.queuedBytes += data.length;
    try {
      this.engine.write(data, options);
    } catch {
      // A transport that cannot write is gone; the other recipients of a broadcast are not held up.
      this.terminate();
      return false;
    }
    return true;
  }

  /**
   * Engine.IO runs its own heartbeat (pingInterval/pingTimeout, set from WSS_PROTOCOL_PING_MS)
   * and closes a silent socket itself, so the gateway's round always finds this one alive.
   */
  protocolPing(): void {
    this.alive = true;
  }

  /**
   * Socket.IO has no close codes: a client told the server is going away gets
   * `reconnect_required` (the Next.js client reconnects on it), then the disconnect.
   */
  close(code: number = CLOSE_CODES.NORMAL, reason = ''): void {
    if (this.closing) return;
    if (code === CLOSE_CODES.GOING_AWAY) this.send(reconnectRequired(TEXTS.serverGoingAway));
    this.closing = true;
    this.closedWith = code;
    this.socket.disconnect(true);
  }

  terminate(): void {
    this.closing = true;
    this.engine.close(true);
  }
}
