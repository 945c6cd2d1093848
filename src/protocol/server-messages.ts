/**
 * Schemas of every message the gateway itself originates (server → client). The server never
 * validates its own output at run time: these give the types (types.ts) that make a reply of the
 * wrong shape fail to compile, and the tests check real replies against them.
 */
import { z } from 'zod';
import { ERROR_CODES } from './constants.js';

/** ISO 8601; every server message carries one. */
const timestamp = z.string();
const sessionType = z.enum(['booking', 'standard']);

export const sessionContextSchema = z.object({ hasSession: z.literal(true), sessionType });

const pushFields = { source: z.literal('server_push').optional(), timestamp: z.string().optional() };

/** Where each named stream stands now, so a client can recover a stream it got nothing from yet. */
export const streamPositionsSchema = z.record(z.string(), z.object({ offset: z.number(), epoch: z.string() }));
/** With history on (WSS_HISTORY_SIZE > 0). */
const stream_positions = streamPositionsSchema.optional();
/** With history on, on everything published to a stream: where this message stands in it. */
export const streamPositionSchema = z.object({ stream: z.string(), offset: z.number(), epoch: z.string() });
const stream_position = streamPositionSchema.optional();

export const partialApplicationsDataSchema = z.union([
  z.object({
    error: z.literal(false), status: z.literal('success'), applications: z.array(z.unknown()), count: z.number(),
    /** Masked: first 8 characters + `...`. */
    sessionId: z.string(), ...pushFields,
  }),
  z.object({ error: z.literal(true), status: z.literal('error'), message: z.string(), ...pushFields }),
]);

/** Socket.IO dialect only: the rooms a connection is in, as PorticoEstate's NestJS gateway lists them. */
export const roomInfoSchema = z.object({ id: z.string(), size: z.number().int(), type: z.enum(['session', 'entity', 'user', 'other']) });
const rooms = z.array(roomInfoSchema).optional();

export const serverSchemas = {
  connection_success: z.object({ message: z.string(), roomId: z.string().nullable(), stream_positions, rooms, timestamp }),
  session_id_required: z.object({ message: z.string(), code: z.literal(ERROR_CODES.NO_SESSION), timestamp }),
  pong: z.object({
    id: z.string(), reply_to: z.union([z.string(), z.number()]).nullable(), heartbeat_id: z.union([z.string(), z.number()]).nullable(), timestamp,
  }),
  user_info_update_confirmation: z.object({ success: z.literal(true), message: z.string(), userId: z.number().int(), timestamp }),
  session_update_confirmation: z.object({
    success: z.literal(true), message: z.string(), action: z.enum(['none', 'set', 'updated']), wasRequired: z.boolean(),
    /** Masked: first 8 characters + `...`. */
    sessionId: z.string(), stream_positions, rooms, timestamp,
  }),
  /** Socket.IO dialect: the connection joined its session room or an entity room (`roomSize`: members on this instance). */
  room_joined: z.object({
    roomId: z.string(), roomType: z.enum(['session', 'entity']), message: z.string(), roomSize: z.number().int(),
    entityType: z.string().optional(), entityId: z.union([z.string(), z.number()]).optional(), timestamp,
  }),
  /** Socket.IO dialect: the server is going away; the Next.js client reconnects on it. */
  reconnect_required: z.object({ message: z.string(), timestamp }),
  subscription_confirmation: z.object({
    entityType: z.string(), entityId: z.union([z.string(), z.number()]), status: z.enum(['subscribed', 'unsubscribed']), roomId: z.string(), stream_positions, timestamp,
  }),
  error: z.object({ message: z.string(), code: z.enum(ERROR_CODES), timestamp }),
  server_ping: z.object({ id: z.string(), timestamp }),
  room_ping: z.object({ roomId: z.string(), pingId: z.string(), timestamp }),
  /** The answer to `recover`, after the missed messages: per stream, whether nothing was lost. */
  recovery_result: z.object({
    recovered: z.boolean(), missed: z.number().int(),
    streams: z.record(z.string(), z.object({
      offset: z.number(), epoch: z.string(), recovered: z.boolean(), missed: z.number().int(),
      reason: z.enum(['not_member', 'epoch_changed', 'window_passed', 'unavailable']).optional(),
    })),
    timestamp,
  }),
  /** PorticoEstate's `refresh_bookinguser` push: the page should reload the booking user. */
  refresh_bookinguser: z.object({ message: z.string(), action: z.string(), stream_position, timestamp }),
  partial_applications_response: z.object({
    data: partialApplicationsDataSchema,
    /** The session room, on pushes (as the original's sendToSessionRoom added it). */
    roomId: z.string().optional(),
    stream_position,
    timestamp,
  }),
} as const;

/**
 * Everything else a client receives is relayed: a client's message (`source: "client"`, with
 * `sessionContext` when the sender has a session) or a payload the web application published
 * (Redis, spool file, POST /publish). Unknown fields are kept; the gateway adds `timestamp`.
 */
export const relayedMessageSchema = z.looseObject({
  type: z.unknown().optional(),
  timestamp: z.unknown(),
  source: z.string().optional(),
  sessionContext: sessionContextSchema.optional(),
  stream_position,
});
