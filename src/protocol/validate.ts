/**
 * The protocol's one definition: zod schemas for every client → server message (here) and every
 * server → client message (server-messages.ts), and for the ingress payloads. TypeScript types are
 * derived from them (types.ts); docs/protocol.md describes them and a test keeps it complete.
 * Each field's `.describe()` says in words what it must be; error replies quote it.
 */
import { z } from 'zod';
import type { FieldIssue } from './errors.js';
import type { ClientMessage, ClientType } from './types.js';

/** Characters PHP uses in session ids (`session.sid_bits_per_character` up to 6), plus `_` and `.`. */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9,\-_.]{1,128}$/;
const NAME_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

const entityType = z.string().regex(NAME_PATTERN).describe('a name of 1-64 letters, digits or _ . : -');
const entityId = z
  .union([z.number().int().nonnegative(), z.string().regex(NAME_PATTERN)])
  .describe('a non-negative integer, or 1-64 letters, digits or _ . : -');
const roomId = z.string().min(1).max(200).describe('a room id of 1-200 characters');
const optionalId = z.union([z.string().max(200), z.number()]).optional().describe('a string of at most 200 characters, or a number');
/** A page is in a handful of streams (session, user, entities, broadcast); more is not a page. */
export const MAX_RECOVER_STREAMS = 100;

export const sessionIdSchema = z.string().regex(SESSION_ID_PATTERN);

/** Integer user ids; digit strings are accepted because PHP pages often render ids as text. */
export const userIdSchema = z
  .union([z.number().int(), z.string().regex(/^-?\d{1,15}$/)])
  .transform((v) => Number(v))
  .refine((v) => Number.isSafeInteger(v));

export const clientSchemas = {
  ping: z.looseObject({ id: optionalId, heartbeat_id: optionalId, count: z.number().optional().describe('a number') }),
  pong: z.looseObject({
    id: optionalId,
    reply_to: z.union([z.string(), z.number(), z.null()]).optional().describe('a string, a number or null'),
    client_timestamp: z.number().optional().describe('milliseconds since 1970 (a number)'),
  }),
  // Checked by the handlers, which answer with their own codes (INVALID_USER_ID, INVALID_SESSION_ID).
  update_user_info: z.looseObject({ userId: z.unknown().describe('an integer') }),
  update_session: z.looseObject({
    sessionId: z.unknown().describe('a non-empty string'),
    token: z.string().min(1).max(8192).optional().describe('a signed identity token of at most 8192 characters'),
  }),
  get_partial_applications: z.looseObject({}),
  subscribe: z.looseObject({ entityType, entityId }),
  unsubscribe: z.looseObject({ entityType, entityId }),
  room_message: z.looseObject({ roomId }),
  session_message: z.looseObject({}),
  entity_event: z.looseObject({ entityType, entityId }),
  room_ping_response: z.looseObject({ roomId, pingId: optionalId }),
  chat: z.looseObject({}),
  notification: z.looseObject({}),
  /** The last position the client saw per stream (docs/protocol.md, `recover`). */
  recover: z.looseObject({
    streams: z.record(roomId, z.object({ offset: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER), epoch: z.string().max(100) }))
      .refine((s) => Object.keys(s).length <= MAX_RECOVER_STREAMS, `at most ${MAX_RECOVER_STREAMS} streams`)
      .describe(`an object of at most ${MAX_RECOVER_STREAMS} streams, each {"offset": a non-negative integer, "epoch": a string}`),
  }),
} as const;


export function isKnownClientType(type: unknown): type is ClientType {
  return typeof type === 'string' && Object.prototype.hasOwnProperty.call(clientSchemas, type);
}

export type Validation<T> = { ok: true; value: T } | { ok: false; issue: FieldIssue };

/** Validate a parsed client frame against its type's schema. */
export function validateClientMessage<K extends ClientType>(
  type: K,
  msg: Record<string, unknown>,
): Validation<ClientMessage<K>> {
  const schema = clientSchemas[type];
  const result = schema.safeParse(msg);
  // Loose schemas keep every field, `type` included.
  if (result.success) return { ok: true, value: result.data as ClientMessage<K> };
  const field = String(result.error.issues[0]?.path[0] ?? 'type');
  const fields: Record<string, z.ZodType | undefined> = schema.shape;
  return { ok: false, issue: { type, field, expected: fields[field]?.description ?? 'a valid value' } };
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

const KIND_NAMES: Record<string, string> = { record: 'an object', object: 'an object', array: 'an array', string: 'a string', number: 'a number' };

/**
 * The first problem of a payload in words for the people who publish it (POST /publish answers,
 * log lines), e.g. `sessionId is missing (a string)`, not the validator's own wording.
 */
export function describeZodError(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'payload is not valid';
  const field = issue.path.join('.') || 'payload';
  switch (issue.code) {
    case 'invalid_type': {
      const kind = KIND_NAMES[issue.expected] ?? issue.expected;
      return / received undefined$/.test(issue.message) ? `${field} is missing (${kind})` : `${field} must be ${kind}`;
    }
    case 'invalid_union': {
      if ('options' in issue && Array.isArray(issue.options)) return `${field} must be one of ${issue.options.map((o) => JSON.stringify(o)).join(', ')}`;
      const kinds = issue.errors.map((branch) => branch[0]).map((i) => (i?.code === 'invalid_type' ? KIND_NAMES[i.expected] ?? i.expected : undefined));
      return kinds.every((k) => k !== undefined) ? `${field} must be ${kinds.join(' or ')}` : `${field} is not valid`;
    }
    case 'invalid_format':
      return `${field} has characters or a length it may not have`;
    case 'too_small':
      return `${field} is too short`;
    case 'too_big':
      return `${field} is too long`;
    default:
      return `${field} is not valid`;
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
