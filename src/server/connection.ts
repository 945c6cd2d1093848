/**
 * One client connection, whichever front door it came through: its identity (session, user),
 * its rooms, liveness and rate state. Handlers, rooms, the relay and the heartbeat only see this
 * class; how bytes reach the client is the subclass's business (ws-connection.ts for the raw
 * WebSocket endpoint, socketio/connection.ts for Socket.IO).
 */
import type { ServerMessage } from '../protocol/types.js';
import type { RecoveryGate } from './recovery/gate.js';
import type { SessionType } from './session.js';
import { NO_IDENTITIES, type Identities } from './identity/resolver.js';
import { TokenBucket, type RateLimitOptions } from './rate-limit.js';
import type { PreparedFrame } from './fanout.js';

let counter = 0;

/** Joined rooms are kept in a list up to this many, in a Set beyond (WSS_MAX_ROOMS_PER_CONNECTION can be large). */
const ROOM_LIST_MAX = 32;
/** Every connection's `handled` while it has nothing to wait for. */
export const SETTLED: Promise<void> = Promise.resolve();

/**
 * Which reply shapes a connection gets where the generations of PorticoEstate differ: `legacy`
 * (the PHP server's, raw WebSocket) or `socketio` (the NestJS gateway's, e.g. `room_joined`).
 */
export type Dialect = 'legacy' | 'socketio';

export interface ConnectionOptions {
  maxBufferedBytes: number;
  rate: RateLimitOptions;
  onOverflow: (conn: Connection) => void;
  /** Called after `send` wrote a message of this type (replies and greetings, for metrics). */
  onSent?: (type: string, bytes: number) => void;
}

export abstract class Connection {
  readonly id: string;
  sessionId: string | null = null;
  sessionType: SessionType | null = null;
  sessionRoom: string | null = null;
  userId: number | null = null;
  /** What the identity resolver verified (user type → identifier); the connection's user rooms follow it. */
  identities: Identities = NO_IDENTITIES;
  /**
   * Rooms this connection is a member of (mirrors the room registry, for O(rooms) cleanup). Most
   * connections are in none or a few (session, user), so: nothing, then a short list, then a Set
   * (memory per idle connection, README "Performance").
   */
  private joined: string[] | Set<string> | null = null;
  /** Set on every frame and pong; a protocol-ping round without it terminates the connection. */
  alive = true;
  lastSeen = Date.now();
  /** Allocated with the first message: an idle connection has nothing to limit. */
  private bucket: TokenBucket | null = null;
  /** Settles once the greeting and every frame received so far are handled (a `recover` waits for it). */
  handled: Promise<void> = SETTLED;
  /** Set while a `recover` of this connection holds or filters some streams' live publications. */
  gate: RecoveryGate | null = null;
  /** Set once a close has started, so nothing else is written. */
  closing = false;
  /**
   * While set (the greeting, until its stream positions are known), what is sent is queued, not
   * written: the greeting's messages and anything sent meanwhile leave in one write.
   */
  protected writesHeld = false;
  abstract readonly dialect: Dialect;

  constructor(readonly remoteAddress: string, protected readonly opts: ConnectionOptions) {
    this.id = `c${(++counter).toString(36)}${Date.now().toString(36)}`;
  }

  get rate(): TokenBucket {
    return (this.bucket ??= new TokenBucket(this.opts.rate));
  }

  /** The rooms this connection is in, as a new array. */
  roomIds(): string[] {
    const joined = this.joined;
    return joined === null ? [] : [...joined];
  }

  get roomCount(): number {
    const joined = this.joined;
    return joined === null ? 0 : Array.isArray(joined) ? joined.length : joined.size;
  }

  inRoom(roomId: string): boolean {
    const joined = this.joined;
    return joined === null ? false : Array.isArray(joined) ? joined.includes(roomId) : joined.has(roomId);
  }

  /** Kept by the RoomRegistry only. */
  noteJoined(roomId: string): void {
    const joined = this.joined;
    if (joined === null) this.joined = [roomId];
    else if (!Array.isArray(joined)) joined.add(roomId);
    else if (joined.includes(roomId)) return;
    else if (joined.length < ROOM_LIST_MAX) joined.push(roomId);
    else this.joined = new Set([...joined, roomId]);
  }

  /** Kept by the RoomRegistry only. */
  noteLeft(roomId: string): void {
    const joined = this.joined;
    if (joined === null) return;
    if (Array.isArray(joined)) {
      const at = joined.indexOf(roomId);
      if (at >= 0) joined.splice(at, 1);
    } else {
      joined.delete(roomId);
    }
    if (this.roomCount === 0) this.joined = null;
  }

  /** Whether the connection can still be written to. */
  abstract get isOpen(): boolean;

  /** Unsent bytes held for this client (checked against WSS_MAX_BUFFERED_BYTES). */
  abstract get bufferedBytes(): number;

  /**
   * Queue a broadcast serialised once for all recipients (see fanout.ts). Returns false when the
   * connection cannot take it.
   */
  abstract sendPrepared(prepared: PreparedFrame): boolean;

  /** Send already-serialised JSON to this connection only, after whatever it has pending. */
  abstract sendFrame(frame: string): boolean;

  /** One round of the transport's own liveness check (a WebSocket ping). */
  abstract protocolPing(): void;

  /** Close cleanly (what was sent before goes out first). */
  abstract close(code?: number, reason?: string): void;

  /** Drop at once, discarding anything unsent. */
  abstract terminate(): void;

  /** Queue everything sent from now until `releaseWrites` (see `writesHeld`). */
  holdWrites(): void {
    this.writesHeld = true;
  }

  /** Writes what was queued meanwhile at once: a greeting ready in the upgrade's turn joins its answer. */
  releaseWrites(): void {
    if (!this.writesHeld) return;
    this.writesHeld = false;
    this.flushPending();
  }

  /** Write what is pending now, in one write (nothing while writes are held). */
  abstract flushPending(): void;

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
}
