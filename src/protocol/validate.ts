/**
 * Validation of everything that enters the gateway: client frames and ingress payloads.
 * One schema per message type; the server's dispatcher looks them up by `type`.
 */
import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from './constants.js';

/** Characters PHP uses in session ids (`session.sid_bits_per_character` up to 6), plus `_` and `.`. */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9,\-_.]{1,128}$/;
const NAME_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

const entityType = z.string().regex(NAME_PATTERN, 'entityType must be 1-64 of [A-Za-z0-9_.:-]');
const entityId = z.union([
  z.number().int().nonnegative(),
  z.string().regex(NAME_PATTERN, 'entityId must be 1-64 of [A-Za-z0-9_.:-]'),
]);
const roomId = z.string().min(1).max(200);
const optionalId = z.union([z.string().max(200), z.number()]).optional();
/** A page is in a handful of streams (session, user, entities, broadcast); more is not a page. */
export const MAX_RECOVER_STREAMS = 100;

export const sessionIdSchema = z.string().regex(SESSION_ID_PATTERN);

/** Integer user ids; digit strings are accepted because PHP pages often render ids as text. */
export const userIdSchema = z
  .union([z.number().int(), z.string().regex(/^-?\d{1,15}$/)])
  .transform((v) => Number(v))
  .refine((v) => Number.isSafeInteger(v));

export const clientSchemas = {
  ping: z.looseObject({ id: optionalId, heartbeat_id: optionalId, count: z.number().optional() }),
  pong: z.looseObject({ id: optionalId, reply_to: z.union([z.string(), z.number(), z.null()]).optional(), client_timestamp: z.number().optional() }),
  update_user_info: z.looseObject({ userId: z.unknown() }),
  update_session: z.looseObject({ sessionId: z.unknown(), token: z.string().min(1).max(8192).optional() }),
  get_partial_applications: z.looseObject({}),
  subscribe: z.looseObject({ entityType, entityId }),
  unsubscribe: z.looseObject({ entityType, entityId }),
  room_message: z.looseObject({ roomId }),
  session_message: z.looseObject({}),
  entity_event: z.looseObject({ entityType, entityId }),
  room_ping_response: z.looseObject({ roomId, pingId: optionalId }),
  chat: z.looseObject({}),
  notification: z.looseObject({}),
  /** docs/protocol.md, "Recovery": the last position the client saw per stream. */
  recover: z.looseObject({
    streams: z.record(roomId, z.object({ offset: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER), epoch: z.string().max(100) }))
      .refine((s) => Object.keys(s).length <= MAX_RECOVER_STREAMS, `at most ${MAX_RECOVER_STREAMS} streams`),
  }),
} as const;

export type KnownClientType = keyof typeof clientSchemas;

export function isKnownClientType(type: unknown): type is KnownClientType {
  return typeof type === 'string' && Object.prototype.hasOwnProperty.call(clientSchemas, type);
}

export type Validation<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; message: string };

/** Validate a parsed client frame against its type's schema. */
export function validateClientMessage<K extends KnownClientType>(
  type: K,
  msg: Record<string, unknown>,
): Validation<z.infer<(typeof clientSchemas)[K]>> {
  const result = clientSchemas[type].safeParse(msg);
  if (result.success) return { ok: true, value: result.data as z.infer<(typeof clientSchemas)[K]> };
  const issue = result.error.issues[0];
  const where = issue?.path.join('.') || 'message';
  return { ok: false, code: ERROR_CODES.INVALID_MESSAGE, message: `Invalid ${type}: ${where}: ${issue?.message ?? 'invalid'}` };
}

// ---- ingress payloads ---------------------------------------------------------------------

export const notificationsPayloadSchema = z.looseObject({
  target: z.string().optional(),
  entityType: z.union([z.string(), z.number()]).optional(),
  entityId: z.union([z.string(), z.number()]).optional(),
  sessionId: z.string().optional(),
});
export const sessionMessagesPayloadSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('session_targeted'), sessionId: sessionIdSchema, data: z.record(z.string(), z.unknown()).optional() }),
  z.looseObject({ type: z.literal('update_partial_applications'), sessionId: sessionIdSchema }),
  z.looseObject({ type: z.literal('refresh_bookinguser'), sessionId: sessionIdSchema, message: z.string().max(1000).optional(), action: z.string().max(64).optional() }),
]);
export const roomMessagesPayloadSchema = z.looseObject({ roomId });

export function describeZodError(error: z.ZodError): string {
  const issue = error.issues[0];
  return `${issue?.path.join('.') || 'payload'}: ${issue?.message ?? 'invalid'}`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
