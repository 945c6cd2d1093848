/**
 * One client connection: its identity (session, user), its rooms, liveness and rate state.
 * All writes go through `sendPrepared`/`sendFrame`, which enforce the unsent-buffer bound and
 * keep one order per connection: broadcasts queue in the connection's pending chain (see
 * fanout.ts) and a reply sent while something is pending queues behind it; a reply sent with
 * nothing pending is written at once.
 */
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { CLOSE_CODES } from '../protocol/constants.js';
import type { ServerMessage } from '../protocol/types.js';
import type { RecoveryGate } from './recovery/gate.js';
import type { SessionType } from './session.js';
import { NO_IDENTITIES, type Identities } from './identity/resolver.js';
import { TokenBucket, type RateLimitOptions } from './rate-limit.js';
import { encodeTextFrame, sharedOutbox, type OutboxEntry, type Outbox, type PendingChain, type PreparedFrame } from './fanout.js';

let counter = 0;

export interface ConnectionOptions {
  maxBufferedBytes: number;
  rate: RateLimitOptions;
  onOverflow: (conn: Connection) => void;
  /** Called after `send` wrote a message of this type (replies and greetings, for metrics). */
  onSent?: (type: string, bytes: number) => void;
  /**
   * The upgraded socket under `ws` (the one `ws` itself writes to). With it, frames are framed
   * once and written packed, bypassing `ws.send`; without it (in-memory fakes), `ws.send` is used.
   */
  socket?: Duplex;
  /** Defaults to the process-wide outbox. */
  outbox?: Outbox;
}

export class Connection implements OutboxEntry {
  readonly id: string;
  sessionId: string | null = null;
  sessionType: SessionType | null = null;
  sessionRoom: string | null = null;
  userId: number | null = null;
  /** What the identity resolver verified (user type → identifier); the connection's user rooms follow it. */
  identities: Identities = NO_IDENTITIES;
  /** Rooms this connection is a member of (mirrors the room registry, for O(rooms) cleanup). */
  readonly rooms = new Set<string>();
  /** Set on every frame and pong; a protocol-ping round without it terminates the connection. */
  alive = true;
  lastSeen = Date.now();
  readonly rate: TokenBucket;
  /** Settles once the greeting and every frame received so far are handled (a `recover` waits for it). */
  handled: Promise<void> = Promise.resolve();
  /** Set while a `recover` of this connection holds or filters some streams' live publications. */
  gate: RecoveryGate | null = null;
  /** Set once a close has started, so nothing else is written. */
  closing = false;
  private readonly socket: Duplex | null;
  private readonly outbox: Outbox;
  /** Frames queued for this turn's flush, or null when nothing is pending. */
  private pending: PendingChain | null = null;

  constructor(readonly ws: WebSocket, readonly remoteAddress: string, private readonly opts: ConnectionOptions) {
    this.id = `c${(++counter).toString(36)}${Date.now().toString(36)}`;
    this.rate = new TokenBucket(opts.rate);
    this.socket = opts.socket ?? null;
    this.outbox = opts.outbox ?? sharedOutbox;
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
  sendFrame(frame: string | Buffer): boolean {
    if (this.closing || this.ws.readyState !== 1) return false;
    const socket = this.socket;
    if (socket === null) return this.sendViaWs(frame);
    const pending = this.pending;
    if (socket.writableLength + (pending === null ? 0 : pending.bytes) > this.opts.maxBufferedBytes) {
      this.opts.onOverflow(this);
      return false;
    }
    const bytes = encodeTextFrame(typeof frame === 'string' ? frame : frame.toString('utf8'));
    if (pending === null) socket.write(bytes);
    else this.pending = pending.append(bytes);
    return true;
  }

  /** The outbox's flush: write this turn's pending frames in one write. */
  flushPending(): void {
    const pending = this.pending;
    if (pending === null) return;
    this.pending = null;
    const socket = this.socket;
    if (socket !== null && this.ws.readyState === 1 && !this.closing && socket.writable) socket.write(pending.buffer());
  }

  private sendViaWs(frame: string | Buffer): boolean {
    if (this.ws.bufferedAmount > this.opts.maxBufferedBytes) {
      this.opts.onOverflow(this);
      return false;
    }
    this.ws.send(frame);
    return true;
  }

  /** A reply or greeting of the server's own (relays go through the Relay and `sendPrepared`). */
  send(message: ServerMessage): boolean {
    const frame = JSON.stringify(message);
    const sent = this.sendFrame(frame);
    if (sent && this.opts.onSent) this.opts.onSent(message.type, Buffer.byteLength(frame));
    return sent;
  }

  markSeen(): void {
    this.alive = true;
    this.lastSeen = Date.now();
  }

  close(code: number = CLOSE_CODES.NORMAL, reason = ''): void {
    if (this.closing) return;
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
