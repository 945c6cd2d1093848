/**
 * One client connection: its identity (session, user), its rooms, liveness and rate state.
 * All writes go through `sendFrame`, which enforces the unsent-buffer bound.
 */
import type { WebSocket } from 'ws';
import { CLOSE_CODES } from '../protocol/constants.js';
import type { SessionType } from './session.js';
import { TokenBucket, type RateLimitOptions } from './rate-limit.js';

let counter = 0;

export interface ConnectionOptions {
  maxBufferedBytes: number;
  rate: RateLimitOptions;
  onOverflow: (conn: Connection) => void;
  /** Called after `send` wrote a message of this type (replies and greetings, for metrics). */
  onSent?: (type: string, bytes: number) => void;
}

export class Connection {
  readonly id: string;
  sessionId: string | null = null;
  sessionType: SessionType | null = null;
  sessionRoom: string | null = null;
  userId: number | null = null;
  /** Rooms this connection is a member of (mirrors the room registry, for O(rooms) cleanup). */
  readonly rooms = new Set<string>();
  /** Set on every frame and pong; a protocol-ping round without it terminates the connection. */
  alive = true;
  lastSeen = Date.now();
  readonly rate: TokenBucket;
  /** Set once a close has started, so nothing else is written. */
  closing = false;

  constructor(readonly ws: WebSocket, readonly remoteAddress: string, private readonly opts: ConnectionOptions) {
    this.id = `c${(++counter).toString(36)}${Date.now().toString(36)}`;
    this.rate = new TokenBucket(opts.rate);
  }

  /** Send already-serialised JSON. Returns false when the connection cannot take it. */
  sendFrame(frame: string | Buffer): boolean {
    if (this.closing || this.ws.readyState !== 1) return false;
    if (this.ws.bufferedAmount > this.opts.maxBufferedBytes) {
      this.opts.onOverflow(this);
      return false;
    }
    this.ws.send(frame);
    return true;
  }

  send(message: object): boolean {
    const frame = JSON.stringify(message);
    const sent = this.sendFrame(frame);
    if (sent && this.opts.onSent) {
      const type = (message as { type?: unknown }).type;
      this.opts.onSent(typeof type === 'string' ? type : 'untyped', Buffer.byteLength(frame));
    }
    return sent;
  }

  markSeen(): void {
    this.alive = true;
    this.lastSeen = Date.now();
  }

  close(code: number = CLOSE_CODES.NORMAL, reason = ''): void {
    if (this.closing) return;
    this.closing = true;
    this.ws.close(code, reason);
  }

  terminate(): void {
    this.closing = true;
    this.ws.terminate();
  }
}
