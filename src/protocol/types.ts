/**
 * The wire contract as TypeScript types (see shared PROTOCOL.md). Pure types: the browser
 * client, the publisher and the server all import them; validation lives in validate.ts.
 */
import type { ErrorCode, LegacyChannel } from './constants.js';

/** Any JSON object on the wire. Relayed messages keep unknown fields. */
export type JsonObject = { [key: string]: unknown };

export interface SessionContext {
  hasSession: true;
  sessionType: 'booking' | 'standard';
}

// ---- client → server -------------------------------------------------------------------

export interface PingMessage { type: 'ping'; id?: string | number; heartbeat_id?: string | number; count?: number }
export interface PongMessage { type: 'pong'; id?: string; reply_to?: string | null; client_timestamp?: number }
export interface UpdateUserInfoMessage { type: 'update_user_info'; userId: number | string }
export interface UpdateSessionMessage {
  type: 'update_session'; sessionId: string;
  /** Signed identity token (WSS_AUTH_SECRET). `accountId`/`ssn` are claims: checked, never trusted. */
  token?: string; accountId?: number | string; ssn?: string;
}
export interface GetPartialApplicationsMessage { type: 'get_partial_applications' }
export interface SubscribeMessage { type: 'subscribe'; entityType: string; entityId: string | number }
export interface UnsubscribeMessage { type: 'unsubscribe'; entityType: string; entityId: string | number }
export interface RoomMessage { type: 'room_message'; roomId: string; [key: string]: unknown }
export interface SessionMessage { type: 'session_message'; [key: string]: unknown }
export interface EntityEventMessage { type: 'entity_event'; entityType: string; entityId: string | number; [key: string]: unknown }
export interface RoomPingResponseMessage { type: 'room_ping_response'; roomId: string; pingId?: string }
export interface ChatMessage { type: 'chat'; message: unknown; [key: string]: unknown }
export interface NotificationMessage { type: 'notification'; message: unknown; [key: string]: unknown }

export type ClientMessage =
  | PingMessage | PongMessage | UpdateUserInfoMessage | UpdateSessionMessage
  | GetPartialApplicationsMessage | SubscribeMessage | UnsubscribeMessage | RoomMessage
  | SessionMessage | EntityEventMessage | RoomPingResponseMessage | ChatMessage | NotificationMessage;

export type ClientMessageType = ClientMessage['type'];

// ---- server → client -------------------------------------------------------------------

interface Stamped { timestamp: string }

/** A room a connection is in, as PorticoEstate's NestJS gateway lists them (Socket.IO dialect). */
export interface RoomInfo { id: string; size: number; type: 'session' | 'entity' | 'user' | 'other' }
/** Where each named stream stands now (docs/protocol.md, "Recovery"), so a client can recover a stream it got nothing from yet. */
export type StreamPositions = Record<string, { offset: number; epoch: string }>;
export interface ConnectionSuccess extends Stamped {
  type: 'connection_success'; message: string; roomId: string | null;
  /** With history on: `broadcast` and the session room. */
  stream_positions?: StreamPositions;
  /** Socket.IO dialect only. */
  rooms?: RoomInfo[];
}
export interface SessionIdRequired extends Stamped { type: 'session_id_required'; message: string; code: 'NO_SESSION' }
export interface PongReply extends Stamped { type: 'pong'; id: string; reply_to: string | number | null; heartbeat_id: string | number | null }
export interface UserInfoUpdateConfirmation extends Stamped {
  type: 'user_info_update_confirmation'; success: true; message: string; userId: number;
}
export interface SessionUpdateConfirmation extends Stamped {
  type: 'session_update_confirmation'; success: true; message: string;
  action: 'none' | 'set' | 'updated'; wasRequired: boolean; sessionId: string;
  /** With history on: the streams of the rooms the connection is in now. */
  stream_positions?: StreamPositions;
  /** Socket.IO dialect only. */
  rooms?: RoomInfo[];
}
/** Socket.IO dialect: sent when the connection joins its session room or an entity room (NestJS gateway's shape). */
export interface RoomJoined extends Stamped {
  type: 'room_joined'; roomId: string; roomType: 'session' | 'entity'; message: string;
  /** Members on this instance (the NestJS gateway's count was per instance too). */
  roomSize: number;
  entityType?: string; entityId?: string | number;
}
/** Socket.IO dialect: the server is going away; the Next.js client reconnects on it. */
export interface ReconnectRequired extends Stamped { type: 'reconnect_required'; message: string }
export interface SubscriptionConfirmation extends Stamped {
  type: 'subscription_confirmation'; entityType: string; entityId: string | number;
  status: 'subscribed' | 'unsubscribed'; roomId: string;
  /** With history on, when subscribed: the entity room's stream. */
  stream_positions?: StreamPositions;
}
export interface ErrorReply extends Stamped { type: 'error'; message: string; code: ErrorCode }
export interface ServerPing extends Stamped { type: 'server_ping'; id: string }
export interface RoomPing extends Stamped { type: 'room_ping'; roomId: string; pingId: string }

export interface PartialApplicationsSuccess {
  error: false; status: 'success'; applications: unknown[]; count: number; sessionId: string;
  source?: 'server_push'; timestamp?: string;
}
export interface PartialApplicationsFailure {
  error: true; status: 'error'; message: string; source?: 'server_push'; timestamp?: string;
}
export type PartialApplicationsData = PartialApplicationsSuccess | PartialApplicationsFailure;
export interface PartialApplicationsResponse extends Stamped {
  type: 'partial_applications_response'; data: PartialApplicationsData;
}

export interface BookingUserRefresh extends Stamped { type: 'refresh_bookinguser'; message: string; action: string }

export type ServerMessage =
  | BookingUserRefresh | ConnectionSuccess | SessionIdRequired | PongReply | UserInfoUpdateConfirmation
  | SessionUpdateConfirmation | SubscriptionConfirmation | ErrorReply | ServerPing | RoomPing
  | PartialApplicationsResponse | RoomJoined | ReconnectRequired;

// ---- ingress payloads (Redis channels, spool files, HTTP publish) ---------------------

export interface NotificationsPayload extends JsonObject {
  type?: string; target?: 'entity' | 'session' | string;
  entityType?: string; entityId?: string | number; sessionId?: string;
}
export interface SessionTargetedPayload extends JsonObject { type: 'session_targeted'; sessionId: string; data?: JsonObject }
export interface UpdatePartialApplicationsPayload extends JsonObject { type: 'update_partial_applications'; sessionId: string }
export interface RefreshBookingUserPayload extends JsonObject { type: 'refresh_bookinguser'; sessionId: string; message?: string; action?: string }
/** `target: "user"` on `notifications` (PHP's sendToUserRoom). */
export interface UserTargetedPayload extends JsonObject { target: 'user'; userType: string; identifier: string | number; type?: string }
export interface RoomMessagesPayload extends JsonObject { type?: string; roomId: string }

export interface IngressMessage { channel: LegacyChannel; payload: JsonObject }
