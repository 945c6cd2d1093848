/**
 * The browser client's state machine, independent of the DOM (see environment.ts). One object
 * lives for the page's whole life: when the connection drops it reconnects with capped, jittered
 * exponential backoff (at once when the browser comes back online) and restores what the page had
 * set (session id, user id, entity subscriptions). Every timer it starts is cleared by `close()`.
 * After a reconnect it asks for the stream messages it missed (`recover`, see streams.ts).
 *
 *   connecting ──open──▶ open ──lost──▶ reconnecting ──timer/online──▶ connecting
 *        │                 │                  │
 *        └──── close() ────┴──▶ closing ──▶ closed ◀── close() ───────┘    (connect() leaves closed)
 */
import { backoffDelay } from '../protocol/backoff.js';
import { CLOSE_CODES } from '../protocol/constants.js';
import { isServerOnlyType } from '../protocol/message-types.js';
import { ENTITY_ROOM_PREFIX, entityRoomId, SESSION_ROOM_PREFIX } from '../protocol/room-ids.js';
import type { ClientFrame, JsonObject, PartialApplicationsData } from '../protocol/types.js';
import type { ClientEnvironment, SocketLike, StatusView, TimerHandle } from './environment.js';
import { EVENT_PREFIX, type ClientEventMap, type ClientEventName } from './events.js';
import { resolveOptions, type ClientOptions, type ResolvedOptions } from './options.js';
import { StreamPositions, streamPositionOf, type RecoveryOutcome, type StreamPosition } from './streams.js';

/** Fine-grained state (addition); `getStatus()` keeps the original four values. */
export type ClientState = 'connecting' | 'open' | 'reconnecting' | 'closing' | 'closed';
/** What the original `getStatus()` returned (the WebSocket readyState names). */
export type ConnectionStatus = 'CONNECTING' | 'OPEN' | 'CLOSING' | 'CLOSED';

export interface EntityRef { entityType: string; entityId: string | number }

const SOCKET_OPEN = 1;
const SOCKET_CLOSING = 2;

// `reconnecting` reports CONNECTING: the client is on its way back, and pages that poll for
// CLOSED to create a new client (what the original forced them to do) must not do so now.
const LEGACY_STATUS: Record<ClientState, ConnectionStatus> = {
  connecting: 'CONNECTING', open: 'OPEN', reconnecting: 'CONNECTING', closing: 'CLOSING', closed: 'CLOSED',
};

const STATUS_VIEWS: Record<ClientState, StatusView> = {
  connecting: { text: 'Connecting…', state: 'connecting', color: 'orange' },
  open: { text: 'Connected', state: 'connected', color: 'green' },
  reconnecting: { text: 'Reconnecting…', state: 'reconnecting', color: 'orange' },
  closing: { text: 'Disconnected', state: 'disconnected', color: 'red' },
  closed: { text: 'Disconnected', state: 'disconnected', color: 'red' },
};

interface PendingRequest {
  resolve(data: PartialApplicationsData): void;
  reject(err: Error): void;
  timer: TimerHandle;
}

type Handler<K extends ClientEventName> = (detail: ClientEventMap[K]) => void;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The session room a `session_update_confirmation` names: `roomId`, else the one session stream among its `stream_positions`. */
function sessionRoomOf(reply: JsonObject): string | null {
  if (typeof reply.roomId === 'string') return reply.roomId;
  if (!isObject(reply.stream_positions)) return null;
  const rooms = Object.keys(reply.stream_positions).filter((stream) => stream.startsWith(SESSION_ROOM_PREFIX));
  return rooms.length === 1 ? rooms[0]! : null;
}

function stamp(): string {
  return new Date().toISOString();
}

export class WebSocketClient {
  readonly url: string;
  private readonly options: ResolvedOptions;
  private state: ClientState = 'closed';
  private socket: SocketLike | null = null;
  /** Reconnect attempts since the last `connection_success`; drives the backoff. */
  private attempt = 0;
  private reconnectTimer: TimerHandle | null = null;
  private pingTimer: TimerHandle | null = null;
  private userIdTimer: TimerHandle | null = null;
  private removeOnline: (() => void) | null = null;
  private pending: PendingRequest[] = [];
  private readonly listeners = new Map<string, Set<(detail: any) => void>>();
  // What the page set, replayed after every reconnect.
  private userId: string | number | null = null;
  private sessionId: string | null = null;
  private readonly subscriptions = new Map<string, EntityRef>();
  // Recovery: positions per stream, the session room the connection is in, whether a socket
  // ever opened (only later opens are reconnects) and the deadline of an outstanding `recover`.
  private readonly streams = new StreamPositions();
  private sessionRoom: string | null = null;
  private openedBefore = false;
  private recoverTimer: TimerHandle | null = null;

  constructor(private readonly env: ClientEnvironment, url?: string | null, options: ClientOptions = {}) {
    this.options = resolveOptions(options);
    this.url = url || env.defaultUrl();
    this.debug('Connecting to WebSocket server at:', this.url);
    this.connect();
  }

  // ---- the original API -------------------------------------------------------------------

  /** Send `{type, message, ...additionalData, timestamp}`; false (nothing sent) when not connected. */
  sendMessage(type: string, message: unknown, additionalData: JsonObject = {}): boolean {
    const data: JsonObject = { type, message, ...additionalData, timestamp: stamp() };
    if (!this.writeJson(data)) return false;
    this.emit('sent', data);
    return true;
  }

  /** Send `update_user_info` now if connected (true) and remember it for every reconnect. */
  updateUserInfo(userId: string | number): boolean {
    this.userId = userId;
    return this.write({ type: 'update_user_info', userId, timestamp: stamp() });
  }

  /** The next `partial_applications_response`'s `data`; rejects when not connected, on disconnect, or after `requestTimeoutMs`. */
  getPartialApplications(): Promise<PartialApplicationsData> {
    if (!this.write({ type: 'get_partial_applications', timestamp: stamp() })) {
      return Promise.reject(new Error('WebSocket is not connected'));
    }
    return new Promise((resolve, reject) => {
      const request: PendingRequest = {
        resolve, reject,
        timer: this.env.setTimeout(() => {
          this.pending = this.pending.filter((p) => p !== request);
          reject(new Error('Timeout waiting for partial applications response'));
        }, this.options.requestTimeoutMs),
      };
      this.pending.push(request);
    });
  }

  /** Close for good: no reconnect, every timer cleared. `connect()` starts again. */
  close(): void {
    const previous = this.state;
    this.clearReconnect();
    this.stopConnectionTimers();
    this.streams.abort();
    this.removeOnline?.();
    this.removeOnline = null;
    this.rejectPending('WebSocket client closed');
    const socket = this.socket;
    if (socket && socket.readyState < SOCKET_CLOSING) {
      this.setState('closing');
      socket.close(CLOSE_CODES.NORMAL, 'Client closed');
      return; // onclose finishes the transition
    }
    this.socket = null;
    if (socket) this.detach(socket);
    this.setState('closed');
    if (previous !== 'closed' && previous !== 'closing') {
      this.emit('disconnected', { code: CLOSE_CODES.NORMAL, reason: 'Client closed', wasClean: true, willReconnect: false });
    }
  }

  /** `CONNECTING` | `OPEN` | `CLOSING` | `CLOSED`; waiting to reconnect counts as `CONNECTING`. */
  getStatus(): ConnectionStatus {
    return LEGACY_STATUS[this.state];
  }

  // ---- additions --------------------------------------------------------------------------

  /** Open the connection if the client is closed, or retry at once if it is waiting to reconnect. */
  connect(): void {
    if (this.state === 'open' || this.state === 'connecting') return;
    this.clearReconnect();
    this.removeOnline ??= this.env.onOnline(() => this.handleOnline());
    this.open();
  }

  /** Join an entity room now if connected (true), and again after every reconnect. */
  subscribe(entityType: string, entityId: string | number): boolean {
    this.subscriptions.set(entityRoomId(entityType, entityId), { entityType, entityId });
    return this.write({ type: 'subscribe', entityType, entityId, timestamp: stamp() });
  }

  /** Leave an entity room and stop restoring it. */
  unsubscribe(entityType: string, entityId: string | number): boolean {
    const roomId = entityRoomId(entityType, entityId);
    this.subscriptions.delete(roomId);
    this.streams.forget(roomId);
    return this.write({ type: 'unsubscribe', entityType, entityId, timestamp: stamp() });
  }

  /** Send `update_session` now if connected (true) and remember it for every reconnect. */
  updateSession(sessionId: string): boolean {
    // Another session means another session room, known again once the server names it.
    if (sessionId !== this.sessionId) this.sessionRoom = null;
    this.sessionId = sessionId;
    return this.write({ type: 'update_session', sessionId, timestamp: stamp() });
  }

  /** Listen to one event (`'chat'` or `'portico:chat'`) of this client only; returns the remover. */
  on<K extends ClientEventName>(type: K | `${typeof EVENT_PREFIX}${K}`, handler: Handler<K>): () => void {
    const name = type.startsWith(EVENT_PREFIX) ? type.slice(EVENT_PREFIX.length) : type;
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(handler);
    return () => { set.delete(handler); };
  }

  /** The fine-grained state: connecting, open, reconnecting, closing or closed. */
  getState(): ClientState {
    return this.state;
  }

  /** Entity subscriptions that are restored after a reconnect. */
  getSubscriptions(): EntityRef[] {
    return [...this.subscriptions.values()];
  }

  /** The last position seen per stream (`broadcast`, room ids), the base of the next `recover`. */
  getStreamPositions(): Record<string, StreamPosition> {
    return this.streams.snapshot();
  }

  // ---- connection life --------------------------------------------------------------------

  private open(): void {
    this.setState('connecting');
    const socket = this.env.createSocket(this.url);
    this.socket = socket;
    socket.onopen = () => { if (socket === this.socket) this.handleOpen(); };
    socket.onmessage = (event) => { if (socket === this.socket) this.handleFrame(event.data); };
    socket.onclose = (event) => { if (socket === this.socket) this.handleClose(event); };
    socket.onerror = () => { if (socket === this.socket) this.debug('WebSocket error'); };
  }

  private handleOpen(): void {
    this.setState('open');
    this.pingTimer = this.env.setInterval(() => this.write({ type: 'ping', timestamp: stamp() }), this.options.pingIntervalMs);
    this.restore();
    if (this.openedBefore) this.recover();
    this.openedBefore = true;
  }

  /** Replay what the page set; the server processes frames in order, so the session comes first and `recover` last. */
  private restore(): void {
    if (this.sessionId !== null) this.write({ type: 'update_session', sessionId: this.sessionId, timestamp: stamp() });
    for (const ref of this.subscriptions.values()) {
      this.write({ type: 'subscribe', entityType: ref.entityType, entityId: ref.entityId, timestamp: stamp() });
    }
    if (this.userId !== null) {
      this.write({ type: 'update_user_info', userId: this.userId, timestamp: stamp() });
    } else if (this.options.detectUserId) {
      // The original waited a moment too: pages often fill in the user id after loading the script.
      this.userIdTimer = this.env.setTimeout(() => {
        this.userIdTimer = null;
        if (this.userId !== null) return;
        const found = this.env.findUserId();
        if (found === null || found === '') return;
        this.debug('Auto-detected user ID:', found);
        this.write({ type: 'update_user_info', userId: found, timestamp: stamp() });
      }, this.options.userIdDelayMs);
    }
  }

  /** Ask for what was missed in every stream the connection is back in (its rooms were restored just before). */
  private recover(): void {
    const streams = this.streams.beginRecovery((stream) => this.isRejoined(stream));
    this.write({ type: 'recover', streams });
    this.recoverTimer = this.env.setTimeout(() => {
      this.recoverTimer = null;
      this.debug('No recovery_result in time; the page must resync');
      this.endRecovery(this.streams.giveUp());
    }, this.options.recoverTimeoutMs);
  }

  /** Entity rooms only while subscribed, session rooms only the current one, other streams always. */
  private isRejoined(stream: string): boolean {
    if (stream.startsWith(ENTITY_ROOM_PREFIX)) return this.subscriptions.has(stream);
    if (stream.startsWith(SESSION_ROOM_PREFIX)) return stream === this.sessionRoom;
    return true;
  }

  private handleRecoveryResult(result: JsonObject): void {
    if (!this.streams.isRecovering) return;
    if (this.recoverTimer !== null) this.env.clearTimeout(this.recoverTimer);
    this.recoverTimer = null;
    this.endRecovery(this.streams.finish(result));
  }

  private endRecovery(outcome: RecoveryOutcome): void {
    for (const message of outcome.release) this.dispatch(message);
    this.debug('Recovery:', outcome.detail, outcome.lost);
    this.emit('recovered', outcome.detail);
    if (!outcome.detail.recovered) this.emit('resync', { ...outcome.detail, streams: outcome.lost });
  }

  private handleClose(event: { code: number; reason: string; wasClean: boolean }): void {
    const previous = this.state;
    this.socket = null;
    this.stopConnectionTimers();
    this.streams.abort();
    this.rejectPending('WebSocket connection closed');
    this.debug('WebSocket connection closed', event.code, event.reason);
    const userClosed = previous === 'closing' || previous === 'closed';
    if (userClosed || !this.options.reconnect) {
      this.removeOnline?.();
      this.removeOnline = null;
      this.setState('closed');
      this.emit('disconnected', { code: event.code, reason: event.reason, wasClean: event.wasClean, willReconnect: false });
      return;
    }
    if (previous === 'open') {
      this.emit('disconnected', { code: event.code, reason: event.reason, wasClean: event.wasClean, willReconnect: true });
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    this.attempt += 1;
    const delay = backoffDelay(this.attempt, this.options.backoff, () => this.env.random());
    this.setState('reconnecting');
    this.debug(`Reconnecting in ${delay} ms (attempt ${this.attempt})`);
    this.reconnectTimer = this.env.setTimeout(() => {
      this.reconnectTimer = null;
      this.reconnectNow();
    }, delay);
  }

  private handleOnline(): void {
    if (this.state !== 'reconnecting') return;
    this.debug('Browser is back online; reconnecting now');
    this.clearReconnect();
    this.reconnectNow();
  }

  private reconnectNow(): void {
    this.emit('reconnecting', null);
    // A listener may have closed the client.
    if (this.state === 'reconnecting') this.open();
  }

  // ---- incoming frames --------------------------------------------------------------------

  private handleFrame(raw: unknown): void {
    let data: unknown;
    try {
      data = JSON.parse(String(raw));
    } catch {
      data = undefined;
    }
    if (!isObject(data)) {
      this.debug('Received non-JSON message:', raw);
      this.emit('raw', raw);
      return;
    }
    const positioned = streamPositionOf(data);
    if (positioned) {
      const verdict = this.streams.accept(positioned);
      if (verdict === 'duplicate') this.debug('Dropped a duplicate:', positioned.stream, positioned.offset);
      if (verdict !== 'deliver') return;
      if (positioned.stream.startsWith(SESSION_ROOM_PREFIX)) this.sessionRoom = positioned.stream;
    }
    this.dispatch(data);
  }

  private dispatch(data: JsonObject): void {
    this.debug('Message received:', data);
    this.emit('receive', data);
    // Relayed client messages carry source "client"; one posing as a server message (a forged
    // push, greeting, ping or recovery answer) is not acted on. Current gateways refuse them; older ones relayed them.
    if (data.source === 'client' && (isServerOnlyType(data.type) || data.type === 'recovery_result')) {
      this.debug('Ignored a server message type sent by another client:', data.type);
      return;
    }
    this.streams.seed(data.stream_positions);
    switch (data.type) {
      case 'notification':
        return this.emit('notification', data);
      case 'chat':
        return this.emit('chat', data);
      case 'pong':
        return;
      case 'server_ping':
        this.write({ type: 'pong', id: `pong_${Date.now()}`, reply_to: typeof data.id === 'string' ? data.id : null, timestamp: stamp() });
        return;
      case 'room_ping':
        if (typeof data.roomId === 'string') {
          this.write({ type: 'room_ping_response', roomId: data.roomId, pingId: typeof data.pingId === 'string' ? data.pingId : undefined, timestamp: stamp() });
        }
        return this.emit('message', data); // the original passed room pings on to the page
      case 'partial_applications_response':
        return this.handlePartialApplications(data);
      case 'user_info_update_confirmation':
        return this.emit('user_info_updated', { userId: data.userId, success: data.success });
      case 'connection_success':
        this.attempt = 0;
        // The cookie's session room; a page-set session (re-sent after this greeting) wins.
        if (this.sessionId === null) this.sessionRoom = typeof data.roomId === 'string' ? data.roomId : null;
        return this.emit('connected', data);
      case 'session_update_confirmation':
        this.sessionRoom = sessionRoomOf(data) ?? this.sessionRoom;
        return this.emit('message', data);
      case 'recovery_result':
        return this.handleRecoveryResult(data);
      default:
        return this.emit('message', data);
    }
  }

  private handlePartialApplications(message: JsonObject): void {
    const data = (isObject(message.data) ? message.data : {}) as JsonObject;
    if (data.requiresUserInfo) this.emit('requires_user_info', { requestType: 'partial_applications' });
    const isServerPush = data.source === 'server_push';
    this.emit('partial_applications', { ...data, isServerPush } as ClientEventMap['partial_applications']);
    if (isServerPush) return;
    // Like the original, one response answers every request waiting for one.
    for (const request of this.pending.splice(0)) {
      this.env.clearTimeout(request.timer);
      request.resolve(message.data as PartialApplicationsData);
    }
    this.emit('message', message);
  }

  // ---- helpers ----------------------------------------------------------------------------

  /** Write a protocol frame (typed by the protocol's schemas) if the socket is open. */
  private write(frame: ClientFrame): boolean {
    return this.writeJson(frame);
  }

  /** Write any JSON object (the page's own `sendMessage` types) if the socket is open. */
  private writeJson(frame: JsonObject): boolean {
    const socket = this.socket;
    if (this.state !== 'open' || !socket || socket.readyState !== SOCKET_OPEN) {
      this.debug('WebSocket is not connected; not sent:', frame.type);
      return false;
    }
    socket.send(JSON.stringify(frame));
    this.emit('send', frame);
    return true;
  }

  private emit<K extends ClientEventName>(name: K, detail: ClientEventMap[K]): void {
    if (name !== 'receive' && name !== 'send') this.env.dispatch(EVENT_PREFIX + name, detail);
    const set = this.listeners.get(name);
    if (!set) return;
    for (const handler of [...set]) {
      try {
        handler(detail);
      } catch (err) {
        this.debug(`portico:${name} handler threw`, err);
      }
    }
  }

  private setState(next: ClientState): void {
    if (next === this.state) return;
    this.debug(`state ${this.state} -> ${next}`);
    this.state = next;
    this.env.showStatus(STATUS_VIEWS[next]);
  }

  private stopConnectionTimers(): void {
    if (this.pingTimer !== null) this.env.clearInterval(this.pingTimer);
    if (this.userIdTimer !== null) this.env.clearTimeout(this.userIdTimer);
    if (this.recoverTimer !== null) this.env.clearTimeout(this.recoverTimer);
    this.pingTimer = null;
    this.userIdTimer = null;
    this.recoverTimer = null;
  }

  private clearReconnect(): void {
    if (this.reconnectTimer !== null) this.env.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }

  private rejectPending(reason: string): void {
    for (const request of this.pending.splice(0)) {
      this.env.clearTimeout(request.timer);
      request.reject(new Error(reason));
    }
  }

  private detach(socket: SocketLike): void {
    socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
  }

  private debug(...args: unknown[]): void {
    if (this.options.debug) this.env.log('[portico-ws]', ...args);
  }
}
