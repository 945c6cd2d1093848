/**
 * The wire contract as TypeScript types, derived from the schemas (validate.ts for client
 * messages and ingress payloads, server-messages.ts for what the server sends), so there is one
 * definition. Type-only imports: the browser client and the publisher import these without
 * pulling zod into their bundles.
 */
import type { z } from 'zod';
import type { LegacyChannel } from './constants.js';
import type { partialApplicationsDataSchema, roomInfoSchema, serverSchemas, sessionContextSchema, streamPositionsSchema } from './server-messages.js';
import type {
  clientSchemas, notificationsPayloadSchema, roomMessagesPayloadSchema, sessionMessagesPayloadSchema,
} from './validate.js';

/** Any JSON object on the wire. Relayed messages keep unknown fields. */
export type JsonObject = { [key: string]: unknown };

export type SessionContext = z.infer<typeof sessionContextSchema>;

// ---- client → server -------------------------------------------------------------------

export type ClientType = keyof typeof clientSchemas;

/** A client message of type `K` as its handler receives it (validated; userId etc. not yet checked). */
export type ClientMessage<K extends ClientType = ClientType> = { [T in K]: z.output<(typeof clientSchemas)[T]> & { type: T } }[K];

/** A client message of type `K` as a sender writes it. */
export type ClientFrame<K extends ClientType = ClientType> = { [T in K]: z.input<(typeof clientSchemas)[T]> & { type: T } }[K];

// ---- server → client -------------------------------------------------------------------

export type ServerType = keyof typeof serverSchemas;

/** A message the server itself originates; `ServerMessage` alone is the union of all of them. */
export type ServerMessage<K extends ServerType = ServerType> = { [T in K]: z.output<(typeof serverSchemas)[T]> & { type: T } }[K];

export type ConnectionSuccess = ServerMessage<'connection_success'>;
export type SessionIdRequired = ServerMessage<'session_id_required'>;
export type PongReply = ServerMessage<'pong'>;
export type UserInfoUpdateConfirmation = ServerMessage<'user_info_update_confirmation'>;
export type SessionUpdateConfirmation = ServerMessage<'session_update_confirmation'>;
export type SubscriptionConfirmation = ServerMessage<'subscription_confirmation'>;
export type ErrorReply = ServerMessage<'error'>;
export type ServerPing = ServerMessage<'server_ping'>;
export type RoomPing = ServerMessage<'room_ping'>;
export type PartialApplicationsResponse = ServerMessage<'partial_applications_response'>;
export type BookingUserRefresh = ServerMessage<'refresh_bookinguser'>;
export type RecoveryResultMessage = ServerMessage<'recovery_result'>;
export type RoomJoined = ServerMessage<'room_joined'>;
export type ReconnectRequired = ServerMessage<'reconnect_required'>;
export type RoomInfo = z.infer<typeof roomInfoSchema>;
export type StreamPositions = z.infer<typeof streamPositionsSchema>;
export type PartialApplicationsData = z.infer<typeof partialApplicationsDataSchema>;

declare const relayedBrand: unique symbol;

/**
 * A relayed message (a client's, or one the web application published) with its `timestamp`.
 * Branded: only the server's `stamped()` makes one, so a hand-built object cannot pass for it.
 */
export type Relayed = JsonObject & { timestamp: unknown; readonly [relayedBrand]: true };

/** Everything the gateway writes to clients. */
export type Outbound = ServerMessage | Relayed;

// ---- ingress payloads (Redis channels, spool files, HTTP publish) ---------------------

export type NotificationsPayload = z.input<typeof notificationsPayloadSchema>;
export type SessionMessagesPayload = z.input<typeof sessionMessagesPayloadSchema>;
export type RoomMessagesPayload = z.input<typeof roomMessagesPayloadSchema>;

export interface IngressPayloads {
  notifications: NotificationsPayload;
  session_messages: SessionMessagesPayload;
  room_messages: RoomMessagesPayload;
}

/** One payload on one channel; `IngressMessage` alone is any of them. */
export type IngressMessage<C extends LegacyChannel = LegacyChannel> = { [T in C]: { channel: T; payload: IngressPayloads[T] } }[C];
