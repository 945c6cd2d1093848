/**
 * Messages the web application publishes, whichever way they arrive (Redis channel, spool file,
 * HTTP publish), handled as docs/protocol.md's "Ingress" says. Messages from a Redis
 * channel or a shared spool folder reach every instance by themselves (every instance subscribes;
 * every instance sharing a spool folder reads every file, see spool.ts), so they are delivered
 * locally only — with history, each offers its copy with a claim and exactly one enters the
 * stream; HTTP messages (and spool files of an instance alone in its folder) arrive at one
 * instance and are published through the broker to reach all of them.
 */
import type { LegacyChannel } from '../../protocol/constants.js';
import type { Outbound } from '../../protocol/types.js';
import type { Broker, IngestClaim } from '../broker/broker.js';
import { entityRoomId, maskSessionId } from '../../protocol/room-ids.js';
import {
  describeZodError, isPlainObject, notificationsPayloadSchema, roomMessagesPayloadSchema, sessionMessagesPayloadSchema,
} from '../../protocol/validate.js';
import type { PartialApplicationsService } from '../data/partial-applications.js';
import { identifierText } from '../identity/http.js';
import type { UserRoomIds } from '../identity/user-rooms.js';
import type { Logger } from '../log.js';
import { bookingUserRefresh, now, partialApplicationsResponse, stamped } from '../messages.js';
import { ThrottledLog } from '../redis/throttled-log.js';
import type { Relay } from '../relay.js';
import type { RoomRegistry } from '../rooms.js';
import { sessionRoomId } from '../session.js';

export type IngressSource = 'redis' | 'spool' | 'http';

/**
 * `local`: every instance receives the message itself (a Redis channel, a shared spool folder), so
 * it goes to this instance's connections only; `cluster`: it arrived here alone and goes out on the bus.
 */
export type IngressReach = 'local' | 'cluster';

const DEFAULT_REACH: Record<IngressSource, IngressReach> = { redis: 'local', spool: 'local', http: 'cluster' };

/** `claim`: for a message every instance has its own copy of (reach local), see legacy-claims.ts. */
interface Arrival { source: IngressSource; reach: IngressReach; ingressAt: number; claim?: IngestClaim }

/** A payload that cannot be delivered as it stands (bad JSON shape, missing fields). */
export class IngressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IngressError';
  }
}

type Payload = Record<string, unknown>;

/**
 * What the original's sendToSessionRoom did to everything it delivered to a session room: add
 * `roomId`, unless the message has one already or is a `server_message` (kept clean for clients).
 */
function withSessionRoomId<T extends object>(message: T, roomId: string): T {
  const fields = message as Payload;
  return fields.type === 'server_message' || fields.roomId !== undefined ? message : { ...message, roomId };
}
export type IngressHook = (channel: LegacyChannel, source: IngressSource) => void;

/**
 * Why a payload reached nobody on purpose: `target: "user"` while no identity source is
 * configured, a known target without its fields, or a target this gateway does not know.
 */
export type DropReason = 'user_target_without_identity' | 'incomplete_target' | 'unknown_target';

/** How targeted payloads are routed beyond session and entity rooms. */
export interface TargetRouting {
  /** User room ids; null when no identity source is configured (user-targeted payloads are dropped). */
  userRooms: UserRoomIds | null;
  onDropped: (reason: DropReason) => void;
}

/** session_messages-style types that also arrive on `notifications` (PHP's spool fallback) and belong to one session. */
const SESSION_TYPES = new Set(['session_targeted', 'update_partial_applications', 'refresh_bookinguser']);

export class Ingress {
  private readonly dropLog: ThrottledLog;

  constructor(
    private readonly relay: Relay,
    private readonly rooms: RoomRegistry,
    private readonly partials: PartialApplicationsService,
    private readonly broker: Pick<Broker, 'claim' | 'historyEnabled'>,
    private readonly log: Logger,
    private readonly onIngress: IngressHook = () => {},
    private readonly routing: TargetRouting = { userRooms: null, onDropped: () => {} },
  ) {
    this.dropLog = new ThrottledLog(log);
  }

  /** Parse a JSON text (as published on Redis or written to a spool file) and handle it. */
  async handleText(channel: LegacyChannel, text: string, source: IngressSource, claim?: IngestClaim): Promise<void> {
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      throw new IngressError(`${channel}: payload is not valid JSON`);
    }
    await this.handle(channel, payload, source, DEFAULT_REACH[source], claim);
  }

  async handle(channel: LegacyChannel, payload: unknown, source: IngressSource, reach: IngressReach = DEFAULT_REACH[source], claim?: IngestClaim): Promise<void> {
    if (!isPlainObject(payload)) throw new IngressError(`${channel}: payload must be a JSON object`);
    const at: Arrival = { source, reach, ingressAt: Date.now(), ...(reach === 'local' && claim ? { claim } : {}) };
    this.onIngress(channel, source);
    switch (channel) {
      case 'notifications': return this.notification(payload, at);
      case 'session_messages': return this.sessionMessage(payload, at);
      case 'room_messages': return this.roomMessage(payload, at);
    }
  }

  private notification(payload: Payload, at: Arrival): Promise<void> | void {
    // PHP's sendToSession falls back to a *notification* spool file holding the session_targeted
    // wrapper; broadcasting that would show one session's id to everyone, so route it as the
    // session message it is.
    if (typeof payload.type === 'string' && SESSION_TYPES.has(payload.type) && typeof payload.sessionId === 'string') {
      return this.sessionMessage(payload, at);
    }
    const parsed = notificationsPayloadSchema.safeParse(payload);
    if (!parsed.success) throw new IngressError(`notifications: ${describeZodError(parsed.error)}`);
    const { target, entityType, entityId, sessionId } = parsed.data;
    if (target === undefined) {
      this.toEveryone(stamped({ ...payload, source: at.source, received_at: now() }), at);
    } else if (target === 'entity' && entityType !== undefined && entityId !== undefined) {
      const roomId = entityRoomId(String(entityType), entityId);
      this.toRoom(roomId, stamped({ entityType, entityId, roomId, ...payload }), at);
    } else if (target === 'session' && sessionId) {
      const roomId = sessionRoomId(sessionId);
      // Routed by the session id, which then leaves the frame: it would otherwise be kept in
      // history, cross the bus and reach page scripts (the cookie is HttpOnly for a reason).
      const { sessionId: _routedBy, ...message } = payload;
      this.toRoom(roomId, stamped(withSessionRoomId(message, roomId)), at);
    } else if (target === 'user') {
      this.toUser(payload, at);
    } else {
      this.drop(target === 'entity' || target === 'session' ? 'incomplete_target' : 'unknown_target', at.source);
    }
  }

  /**
   * `target: "user"` reaches the connections whose verified identity it names, on every
   * instance, routed by the hashed room id. The identifier itself is taken out of the frame, so
   * it travels neither between instances nor to the browser.
   */
  private toUser(payload: Payload, at: Arrival): void {
    const userType = typeof payload.userType === 'string' ? payload.userType : null;
    const identifier = identifierText(payload.identifier);
    if (userType === null || identifier === null) return this.drop('incomplete_target', at.source);
    if (this.routing.userRooms === null) return this.drop('user_target_without_identity', at.source);
    const { identifier: _omitted, ...message } = payload;
    this.toRoom(this.routing.userRooms.roomId(userType, identifier), stamped(message), at);
  }

  /** Delivered to nobody, counted, and logged at most a few lines a minute (never the payload). */
  private drop(reason: DropReason, source: IngressSource): void {
    this.routing.onDropped(reason);
    this.dropLog.warn({ reason, source }, 'notification dropped: its target cannot be honoured');
  }

  private async sessionMessage(payload: Payload, at: Arrival): Promise<void> {
    const parsed = sessionMessagesPayloadSchema.safeParse(payload);
    if (!parsed.success) throw new IngressError(`session_messages: ${describeZodError(parsed.error)}`);
    const msg = parsed.data;
    const roomId = sessionRoomId(msg.sessionId);
    if (msg.type === 'session_targeted') {
      const data = msg.data ?? { type: 'session_message', message: msg.message };
      this.toRoom(roomId, stamped(withSessionRoomId(data, roomId)), at);
      return;
    }
    if (msg.type === 'refresh_bookinguser') {
      this.toRoom(roomId, bookingUserRefresh(msg.message, msg.action), at);
      return;
    }
    // Every instance receives it; only those hosting the session need the look-up.
    // Every instance has a local copy. With history one of them (the claim's winner) looks the
    // session up and publishes the result to all; without, those hosting the session do.
    if (at.claim) {
      const won = this.broker.historyEnabled ? await this.broker.claim(at.claim) : null;
      if (won === false) return;
      at = won === true ? { source: at.source, reach: 'cluster', ingressAt: at.ingressAt } : { source: at.source, reach: 'local', ingressAt: at.ingressAt };
    }
    if (at.reach === 'local' && !this.rooms.has(roomId)) return;
    const data = await this.partials.push(msg.sessionId);
    this.log.debug({ session: maskSessionId(msg.sessionId), source: at.source }, 'partial applications pushed');
    this.toRoom(roomId, withSessionRoomId(partialApplicationsResponse(data), roomId), at);
  }

  private roomMessage(payload: Payload, at: Arrival): void {
    const parsed = roomMessagesPayloadSchema.safeParse(payload);
    if (!parsed.success) throw new IngressError(`room_messages: ${describeZodError(parsed.error)}`);
    this.toRoom(parsed.data.roomId, stamped(payload), at);
  }

  private toRoom(roomId: string, message: Outbound, at: Arrival): void {
    if (at.reach === 'local') this.relay.toLocalRoom(roomId, message, at.ingressAt, at.claim);
    else void this.relay.toRoom(roomId, message, undefined, at.ingressAt);
  }

  private toEveryone(message: Outbound, at: Arrival): void {
    if (at.reach === 'local') this.relay.toLocalAll(message, at.ingressAt, at.claim);
    else void this.relay.toAll(message, undefined, at.ingressAt);
  }
}
