/**
 * A connection on the raw WebSocket endpoint. All writes go through `sendPrepared`/`sendFrame`,
 * which enforce the unsent-buffer bound and keep one order per connection: broadcasts queue in
 * the connection's pending chain (see fanout.ts) and a reply sent while something is pending
 * queues behind it; a reply sent with nothing pending is written at once.
 */
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { CLOSE_CODES } from '../protocol/constants.js';
import { Connection, type ConnectionOptions, type Dialect } from './connection.js';
import { encodeTextFrame, sharedOutbox, type OutboxEntry, type Outbox, type PendingChain, type PreparedFrame } from './fanout.js';

export class WebSocketConnection extends Connection implements OutboxEntry {
  readonly dialect: Dialect = 'legacy';
  private readonly socket: Duplex | null;
  private readonly outbox: Outbox;
  /** Frames queued for this turn's flush, or null when nothing is pending. */
  private pending: PendingChain | null = null;

  /**
   * `socket`: the upgraded socket under `ws` (the one `ws` itself writes to). With it, frames are
   * framed once and written packed, bypassing `ws.send`; without it (in-memory fakes), `ws.send`
   * is used. `opts` is shared by every connection (a copy per connection costs V8 a hidden class
   * each: its function-valued fields).
   */
  constructor(readonly ws: WebSocket, remoteAddress: string, opts: ConnectionOptions, socket: Duplex | null = null, outbox: Outbox = sharedOutbox) {
    super(remoteAddress, opts);
    this.socket = socket;
    this.outbox = outbox;
  }

  get isOpen(): boolean {
    return !this.closing && this.ws.readyState === 1;
  }

  /** Unsent bytes: the socket's write buffer, `ws`'s own, and this turn's pending frames. */
  get bufferedBytes(): number {
    return this.ws.bufferedAmount + (this.pending?.bytes ?? 0);
  }

  /**
   * Queue a broadcast framed once for all recipients; it is written with everything else pending
   * for this connection when the outbox flushes. Returns false when the connection cannot take it.
   */
  sendPrepared(prepared: PreparedFrame): boolean {
    if (this.closing || this.ws.readyState !== 1) return false;
    const socket = this.socket;
    if (socket === null) return this.sendViaWs(prepared.text);
    const pending = this.pending;
    if (socket.writableLength + (pending === null ? 0 : pending.bytes) > this.opts.maxBufferedBytes) {
      this.opts.onOverflow(this);
      return false;
    }
    if (pending === null) {
      this.pending = this.outbox.start.append(prepared.frame);
      this.outbox.enqueue(this);
    } else {
      this.pending = pending.append(prepared.frame);
    }
    return true;
  }

  /**
   * Send already-serialised JSON to this connection only: written at once when nothing is
   * pending, else queued behind the pending broadcasts. Returns false when it cannot take it.
   */
  sendFrame(frame: string): boolean {
    if (this.closing || this.ws.readyState !== 1) return false;
    const socket = this.socket;
    if (socket === null) return this.sendViaWs(frame);
    const pending = this.pending;
    if (socket.writableLength + (pending === null ? 0 : pending.bytes) > this.opts.maxBufferedBytes) {
      this.opts.onOverflow(this);
      return false;
    }
    const bytes = encodeTextFrame(frame);
    if (pending !== null) this.pending = pending.append(bytes);
    else if (this.writesHeld) this.pending = this.outbox.start.append(bytes); // written when writes resume
    else socket.write(bytes);
    return true;
  }

  /** The outbox's flush: write this turn's pending frames in one write. */
  flushPending(): void {
    const pending = this.pending;
    if (pending === null || this.writesHeld) return;
    this.pending = null;
    const socket = this.socket;
    if (socket !== null && this.ws.readyState === 1 && !this.closing && socket.writable) socket.write(pending.buffer());
  }

  private sendViaWs(frame: string): boolean {
    if (this.ws.bufferedAmount > this.opts.maxBufferedBytes) {
      this.opts.onOverflow(this);
      return false;
    }
    this.ws.send(frame);
    return true;
  }

  protocolPing(): void {
    this.ws.ping();
  }

  close(code: number = CLOSE_CODES.NORMAL, reason = ''): void {
    if (this.closing) return;
    this.writesHeld = false;
    this.flushPending(); // what was sent before the close goes out before the close frame
    this.closing = true;
    this.ws.close(code, reason);
  }

  terminate(): void {
    this.pending = null;
    this.closing = true;
    this.ws.terminate();
  }
}
