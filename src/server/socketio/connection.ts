/**
 * A connection on the Socket.IO endpoint. Messages are pre-encoded `message` events (packet.ts),
 * built once per delivery for every Socket.IO recipient: no `socket.emit`, no encoding per
 * recipient. Two ways to the client:
 * - once the transport is the websocket (after the upgrade, or from the start), frames go the
 *   raw endpoint's way: queued in the connection's pending chain and written to the TCP socket
 *   under Engine.IO's websocket in one write per event-loop turn (fanout.ts), shared with every
 *   other recipient of the same frames;
 * - while it is polling (or Engine.IO itself has packets waiting), through Engine.IO's socket,
 *   which batches them into the next polling response.
 * Order is kept: the direct way is taken only when Engine.IO holds nothing of ours, and Engine.IO
 * only when nothing of ours is pending on the direct way. Engine.IO's own pings may interleave.
 */
import type { Duplex } from 'node:stream';
import type { Socket as EngineSocket } from 'engine.io';
import type { Socket } from 'socket.io';
import { CLOSE_CODES, TEXTS } from '../../protocol/constants.js';
import { Connection, type ConnectionOptions, type Dialect } from '../connection.js';
import { ConnectionSlot } from '../connection-slot.js';
import { encodeTextFrame, sharedOutbox, type Outbox, type OutboxEntry, type PendingChain, type PreparedFrame } from '../fanout.js';
import { reconnectRequired } from '../messages.js';
import { messageEvent, socketIoPacket } from './packet.js';

/** What of engine.io's websocket transport we use: its `ws` socket and the TCP socket under it. */
type WsTransport = { name: string; socket?: { bufferedAmount?: number; _socket?: Duplex } };
/** Engine.IO's queue of packets not yet handed to the transport (private in its types). */
type EngineQueue = { writeBuffer: unknown[] };

/** The connection each Engine.IO socket (the `conn` of a Socket.IO socket) carries, for the listeners every socket shares. */
export const engineConnections = new ConnectionSlot<EngineSocket, SocketIoConnection>();

export class SocketIoConnection extends Connection implements OutboxEntry {
  readonly dialect: Dialect = 'socketio';
  /** The code this side closed with, for the metrics (Socket.IO itself has none). */
  closedWith: number | null = null;
  /** Bytes of the client's packets since its last `message` (front-door.ts), for the inbound byte metric. */
  inboundBytes = 0;
  /**
   * Bytes written to Engine.IO since its queue was last empty: what it has not yet handed to its
   * transport (polling between requests). Engine.IO empties the queue as a whole when it flushes,
   * so an empty queue means none of these is left (no 'flush' listener per socket needed).
   */
  private queuedBytes = 0;
  private readonly engine: EngineSocket;
  private readonly outbox: Outbox;
  /** The TCP socket under the websocket transport, once there is one. */
  private direct: Duplex | null = null;
  /** Frames queued for this turn's flush on the direct way, or null when nothing is pending. */
  private pending: PendingChain | null = null;

  constructor(readonly socket: Socket, remoteAddress: string, opts: ConnectionOptions, outbox: Outbox = sharedOutbox) {
    super(remoteAddress, opts);
    this.engine = socket.conn;
    this.outbox = outbox;
    engineConnections.attach(this.engine, this);
    this.takeDirectWay();
  }

  get isOpen(): boolean {
    return !this.closing && this.socket.connected;
  }

  get bufferedBytes(): number {
    const transport = this.engine.transport as unknown as WsTransport;
    const inWs = transport.name === 'websocket' ? transport.socket?.bufferedAmount ?? 0 : 0;
    return this.engineQueued() + inWs + (this.pending?.bytes ?? 0);
  }

  sendPrepared(prepared: PreparedFrame): boolean {
    if (!this.isOpen) return false;
    const packet = (prepared.socketIo ??= socketIoPacket(prepared.text));
    if (this.directNow()) return this.queueDirect(packet.frame);
    return this.write(packet.data, packet.options);
  }

  sendFrame(frame: string): boolean {
    if (!this.isOpen) return false;
    const event = messageEvent(frame);
    if (this.directNow()) return this.queueDirect(encodeTextFrame(`4${event}`));
    return this.write(event, undefined);
  }

  /** The outbox's flush: this turn's frames in one write to the TCP socket. */
  flushPending(): void {
    const pending = this.pending;
    if (pending === null || this.writesHeld) return;
    this.pending = null;
    const direct = this.direct;
    if (direct !== null && direct.writable && this.socket.connected) direct.write(pending.buffer());
  }

  /** The TCP socket under the websocket transport, while that is the transport. */
  static tcpSocketOf(engine: EngineSocket): Duplex | null {
    const transport = engine.transport as unknown as WsTransport;
    return transport.name === 'websocket' ? transport.socket?._socket ?? null : null;
  }

  /**
   * Once the transport is the websocket, frames go straight to the TCP socket under it. Asked at
   * the start and again by each send while polling, so an upgrade is noticed without an
   * 'upgrade' listener per socket.
   */
  private takeDirectWay(): void {
    this.direct = SocketIoConnection.tcpSocketOf(this.engine);
  }

  /**
   * Whether the next frame may go the direct way without overtaking anything of ours: Engine.IO
   * writes what it hands to `ws` to the TCP socket at once, so only its own queue can be behind.
   */
  private directNow(): boolean {
    if (this.direct === null) {
      this.takeDirectWay();
      if (this.direct === null) return false;
    }
    return this.pending !== null || this.engineQueueEmpty;
  }

  /**
   * Queue `frame` (a broadcast shared with other recipients, or a reply) on the direct way:
   * everything of one turn (a greeting's messages, a burst of broadcasts) leaves in one write.
   */
  private queueDirect(frame: Buffer): boolean {
    const pending = this.pending;
    if (this.bufferedBytes > this.opts.maxBufferedBytes) {
      this.opts.onOverflow(this);
      return false;
    }
    if (pending !== null) {
      this.pending = pending.append(frame);
    } else {
      this.pending = this.outbox.start.append(frame);
      this.outbox.enqueue(this);
    }
    return true;
  }

  private get engineQueueEmpty(): boolean {
    return (this.engine as unknown as EngineQueue).writeBuffer.length === 0;
  }

  private engineQueued(): number {
    return this.engineQueueEmpty ? 0 : this.queuedBytes;
  }

  private write(data: string, options: object | undefined): boolean {
    if (this.bufferedBytes > this.opts.maxBufferedBytes) {
      this.opts.onOverflow(this);
      return false;
    }
    this.queuedBytes = this.engineQueued() + data.length;
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
  close(code: number = CLOSE_CODES.NORMAL): void {
    if (this.closing) return;
    if (code === CLOSE_CODES.GOING_AWAY) this.send(reconnectRequired(TEXTS.serverGoingAway));
    this.writesHeld = false;
    this.flushPending(); // what was sent before the close goes out before the disconnect packet
    this.closing = true;
    this.closedWith = code;
    this.socket.disconnect(true);
  }

  terminate(): void {
    this.pending = null;
    this.closing = true;
    this.engine.close(true);
  }
}
