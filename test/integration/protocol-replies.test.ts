/**
 * What the gateway sends matches the protocol's one definition: every frame of a type the server
 * originates parses under its schema in src/protocol/server-messages.ts with no field left over,
 * and error replies carry the texts of the one table (src/protocol/errors.ts), written for people.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { relayedMessageSchema, serverSchemas } from '../../src/protocol/server-messages.js';
import type { ServerType } from '../../src/protocol/types.js';
import { sharedTestGateway } from '../helpers/gateway.js';
import type { TestClient } from '../helpers/ws-client.js';

const shared = sharedTestGateway();

function isServerType(type: unknown): type is ServerType {
  return typeof type === 'string' && Object.prototype.hasOwnProperty.call(serverSchemas, type);
}

/** Every frame `client` received of a server type, checked strictly; returns the types seen. */
function checkFrames(client: TestClient): Set<string> {
  const seen = new Set<string>();
  for (const text of client.raw) {
    const frame = JSON.parse(text) as Record<string, unknown>;
    if (!isServerType(frame.type)) {
      assert.ok(relayedMessageSchema.safeParse(frame).success, `relayed ${text} has a timestamp and a well-formed sessionContext`);
      continue;
    }
    const strict = z.strictObject({ ...serverSchemas[frame.type].shape, type: z.literal(frame.type) });
    const result = strict.safeParse(frame);
    assert.ok(result.success, `${text} does not match its schema: ${result.success ? '' : JSON.stringify(result.error.issues)}`);
    seen.add(frame.type);
  }
  return seen;
}

async function errorFor(client: TestClient, frame: unknown): Promise<[string, string]> {
  client.send(frame);
  const err = await client.ofType('error');
  return [err.code, err.message];
}

test('every reply, greeting and push has exactly the fields its schema defines', async () => {
  const c = await shared.connect();
  c.send({ type: 'ping', id: 'p1', heartbeat_id: 7 });
  await c.ofType('pong');
  c.send({ type: 'update_user_info', userId: '42' });
  await c.ofType('user_info_update_confirmation');
  c.send({ type: 'update_session', sessionId: 'repliesSession0001' });
  await c.ofType('session_update_confirmation');
  c.send({ type: 'subscribe', entityType: 'resource', entityId: 5 });
  await c.ofType('subscription_confirmation');
  c.send({ type: 'unsubscribe', entityType: 'resource', entityId: 5 });
  await c.ofType('subscription_confirmation');
  c.send({ type: 'get_partial_applications' });
  await c.ofType('partial_applications_response');
  await shared.gw.gateway.ingress.handle('session_messages', { type: 'update_partial_applications', sessionId: 'repliesSession0001' }, 'http');
  const push = await c.ofType('partial_applications_response');
  assert.equal(push.data.source, 'server_push');
  c.send('{not json');
  await c.ofType('error');
  const peer = await shared.connect('bookingfrontendsession=repliesPeer0001');
  peer.send({ type: 'notification', message: 'relayed to all' });
  const relayed = await c.next((m) => m.message === 'relayed to all');
  assert.deepEqual([relayed.source, relayed.sessionContext], ['client', { hasSession: true, sessionType: 'booking' }]);

  const seen = checkFrames(c);
  assert.deepEqual([...seen].sort(), [
    'connection_success', 'error', 'partial_applications_response', 'pong', 'session_id_required',
    'session_update_confirmation', 'subscription_confirmation', 'user_info_update_confirmation',
  ]);
});

test('error texts are written for people; the original server\'s fixed texts are kept', async () => {
  const c = await shared.connect();
  assert.deepEqual(await errorFor(c, { type: 'update_session' }), ['INVALID_MESSAGE', 'update_session needs a sessionId (a non-empty string)']);
  assert.deepEqual(await errorFor(c, { type: 'subscribe', entityType: 'resource', entityId: -1 }),
    ['INVALID_MESSAGE', 'subscribe needs an entityId (a non-negative integer, or 1-64 letters, digits or _ . : -)']);
  assert.deepEqual(await errorFor(c, { type: 'subscribe', entityId: 1 }),
    ['INVALID_MESSAGE', 'subscribe needs an entityType (a name of 1-64 letters, digits or _ . : -)']);
  assert.deepEqual(await errorFor(c, { type: 'room_message' }), ['INVALID_MESSAGE', 'room_message needs a roomId (a room id of 1-200 characters)']);
  assert.deepEqual(await errorFor(c, { type: 'ping', count: 'three' }), ['INVALID_MESSAGE', 'ping needs a count (a number)']);
  assert.deepEqual(await errorFor(c, [1, 2]), ['INVALID_MESSAGE', 'Message must be a JSON object']);
  assert.deepEqual(await errorFor(c, 'nope'), ['INVALID_JSON', 'Message is not valid JSON']);
  assert.deepEqual(await errorFor(c, { type: 'update_user_info', userId: 'abc' }),
    ['INVALID_USER_ID', 'update_user_info needs a userId that is an integer (a number or a string of digits)']);
  assert.deepEqual(await errorFor(c, { type: 'session_message', text: 'hi' }),
    ['NO_SESSION', 'This connection has no session: connect with the session cookie or send update_session first']);
  // Texts of the original server, which PorticoEstate pages may match on.
  assert.deepEqual(await errorFor(c, { type: 'update_session', sessionId: '' }), ['INVALID_SESSION_ID', 'Invalid session ID provided']);
  assert.deepEqual(await errorFor(c, { type: 'room_message', roomId: 'entity_x_1' }), ['ROOM_ACCESS_DENIED', 'Not authorized to send to this room']);
  checkFrames(c);
});
