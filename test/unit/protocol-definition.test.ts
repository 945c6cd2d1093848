/**
 * The protocol module is the one definition: every client field says in words what it must be
 * (error replies quote it), every error code has its text, the server's builders produce what the
 * schemas define, and (checked by the compiler: `npm run typecheck`) a reply of the wrong shape,
 * a free-text error or a hand-built relay does not compile.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { ERROR_CODES, TEXTS, type ErrorCode } from '../../src/protocol/constants.js';
import { ERRORS, errorText } from '../../src/protocol/errors.js';
import { isServerOnlyType } from '../../src/protocol/message-types.js';
import { serverSchemas } from '../../src/protocol/server-messages.js';
import type { ClientMessage, ServerMessage } from '../../src/protocol/types.js';
import {
  clientSchemas, describeZodError, notificationsPayloadSchema, roomMessagesPayloadSchema, sessionMessagesPayloadSchema, validateClientMessage,
} from '../../src/protocol/validate.js';
import type { Connection } from '../../src/server/connection.js';
import type { Handler, HandlerTable } from '../../src/server/handlers/context.js';
import { handleRoomMessage } from '../../src/server/handlers/rooms.js';
import {
  connectionSuccess, errorReply, partialApplicationsResponse, pongReply, roomPing, serverPing, sessionIdRequired,
} from '../../src/server/messages.js';
import type { Relay } from '../../src/server/relay.js';

test('every field of every client message says what it must be', () => {
  for (const [type, schema] of Object.entries(clientSchemas)) {
    for (const [field, fieldSchema] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
      assert.ok(fieldSchema.description, `${type}.${field} has no .describe()`);
    }
  }
});

test('a failed validation names the type, the field and what it must be', () => {
  const result = validateClientMessage('update_session', { type: 'update_session' });
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.equal(errorText(ERROR_CODES.INVALID_MESSAGE, result.issue), 'update_session needs a sessionId (a non-empty string)');
  const ok = validateClientMessage('subscribe', { type: 'subscribe', entityType: 'resource', entityId: 3, extra: true });
  assert.deepEqual(ok, { ok: true, value: { type: 'subscribe', entityType: 'resource', entityId: 3, extra: true } });
});

test('a bad ingress payload is described in words for the people who publish it', () => {
  const described = (schema: z.ZodType, payload: unknown) => {
    const result = schema.safeParse(payload);
    assert.equal(result.success, false);
    return result.success ? '' : describeZodError(result.error);
  };
  assert.equal(described(sessionMessagesPayloadSchema, { type: 'session_targeted' }), 'sessionId is missing (a string)');
  assert.equal(described(sessionMessagesPayloadSchema, { type: 'other', sessionId: 'abc' }), 'type must be one of "session_targeted", "update_partial_applications", "refresh_bookinguser"');
  assert.equal(described(sessionMessagesPayloadSchema, { type: 'session_targeted', sessionId: 'abc', data: [1] }), 'data must be an object');
  assert.equal(described(roomMessagesPayloadSchema, { roomId: '' }), 'roomId is too short');
  assert.equal(described(notificationsPayloadSchema, { entityId: {} }), 'entityId must be a string or a number');
});

test('every error code has a non-empty text; the original server\'s texts are kept', () => {
  for (const code of Object.values(ERROR_CODES) as ErrorCode[]) {
    assert.ok(ERRORS[code], `${code} is in the table`);
    assert.ok(ERRORS[code].when.length > 0);
  }
  for (const code of Object.values(ERROR_CODES).filter((c) => c !== ERROR_CODES.INVALID_MESSAGE)) {
    assert.ok(typeof ERRORS[code].text === 'function' || ERRORS[code].text.length > 0, code);
  }
  assert.equal(errorText(ERROR_CODES.INVALID_SESSION_ID), TEXTS.invalidSessionId);
  assert.equal(errorText(ERROR_CODES.ROOM_ACCESS_DENIED), TEXTS.roomAccessDenied);
});

test('clients may not send any type the server sends, except pong (the answer to server_ping)', () => {
  const forgeable = Object.keys(serverSchemas).filter((type) => type !== 'pong' && !isServerOnlyType(type));
  assert.deepEqual(forgeable, [], 'add them to SERVER_ONLY_TYPES in src/protocol/message-types.ts');
  assert.equal(isServerOnlyType('pong'), false);
});

test('the server\'s message builders produce exactly what the schemas define', () => {
  const built: ServerMessage[] = [
    connectionSuccess('session_abc'), connectionSuccess(null), sessionIdRequired(), pongReply('x', null), serverPing(),
    roomPing('entity_resource_1', 'rp1'), errorReply(ERROR_CODES.NO_SESSION), errorReply(ERROR_CODES.INVALID_MESSAGE),
    partialApplicationsResponse({ error: true, status: 'error', message: TEXTS.noSession }),
    partialApplicationsResponse({ error: false, status: 'success', applications: [{ id: 1 }], count: 1, sessionId: 'abcdefgh...' }),
  ];
  for (const message of built) {
    const strict = z.strictObject({ ...serverSchemas[message.type].shape, type: z.literal(message.type) });
    assert.ok(strict.safeParse(message).success, JSON.stringify(message));
  }
});

/** Never called: its body is checked by the compiler (tsconfig.test.json) and must fail where marked. */
export function compileTimeChecks(conn: Connection, relay: Relay): void {
  // @ts-expect-error a reply missing its fields
  conn.send({ type: 'pong', timestamp: '' });
  // @ts-expect-error a type the server does not send
  conn.send({ type: 'direct', message: 'x', timestamp: '' });
  // @ts-expect-error a field of the wrong kind
  conn.send({ type: 'room_ping', roomId: 'r', pingId: 5, timestamp: '' });
  // @ts-expect-error error texts come from the table, not the call site
  errorReply(ERROR_CODES.NO_SESSION, 'free text');
  // @ts-expect-error a code that is not in ERROR_CODES
  errorReply('MADE_UP');
  // @ts-expect-error a hand-built object is not a relay (only stamped() makes one)
  relay.toAll({ type: 'chat', message: 'x', timestamp: '' });
  // @ts-expect-error a handler of one type in another type's slot
  const wrongSlot: Pick<HandlerTable, 'subscribe'> = { subscribe: handleRoomMessage };
  const entityType: Handler<ClientMessage<'subscribe'>> = (_ctx, _conn, msg) => { void msg.entityType.toUpperCase(); };
  void wrongSlot; void entityType;
}
