/**
 * Builders for exactly the channel payloads PorticoEstate's PHP helper publishes (docs/protocol.md,
 * "Ingress"). Pure functions: each validates its arguments and
 * throws a `PublisherArgumentError` naming the bad one, so a mistake surfaces in the caller's
 * stack trace instead of as a payload the gateway later drops.
 */
import { entityRoomId } from '../protocol/room-ids.js';
import type { IngressMessage, JsonObject } from '../protocol/types.js';
import { SESSION_ID_PATTERN } from '../protocol/validate.js';

/** A payload ready to publish on one of the three channels (the gateway's own ingress types). */
export type ChannelMessage = IngressMessage;

/** Thrown synchronously for arguments that cannot make a valid payload. */
export class PublisherArgumentError extends TypeError {
  constructor(argument: string, problem: string) {
    super(`portico-ws publisher: ${argument} ${problem}`);
    this.name = 'PublisherArgumentError';
  }
}

const NAME_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

const timestamp = (): string => new Date().toISOString();

function requireText(name: string, value: unknown, maxLength = 10_000): string {
  if (typeof value !== 'string' || value.trim() === '') throw new PublisherArgumentError(name, 'must be a non-empty string');
  if (value.length > maxLength) throw new PublisherArgumentError(name, `must be at most ${maxLength} characters`);
  return value;
}

function requireObject(name: string, value: unknown): JsonObject {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new PublisherArgumentError(name, 'must be a plain object (JSON object)');
  }
  try {
    JSON.stringify(value);
  } catch (err) {
    throw new PublisherArgumentError(name, `cannot be serialised to JSON (${(err as Error).message})`);
  }
  return value as JsonObject;
}

function requireSessionId(value: unknown): string {
  if (typeof value !== 'string' || !SESSION_ID_PATTERN.test(value)) {
    throw new PublisherArgumentError('sessionId', 'must be 1-128 characters of [A-Za-z0-9,-_.] (a PHP session id)');
  }
  return value;
}

function requireName(name: string, value: unknown): string {
  if (typeof value !== 'string' || !NAME_PATTERN.test(value)) throw new PublisherArgumentError(name, 'must be 1-64 characters of [A-Za-z0-9_.:-]');
  return value;
}

function requireEntityId(value: unknown): string | number {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) throw new PublisherArgumentError('entityId', 'must be a non-negative integer or an id string');
    return value;
  }
  return requireName('entityId', value);
}

/**
 * Broadcast to every connection (channel `notifications`):
 * `{"type":type,"message":message,"data":data,"timestamp":…}`. `type` defaults to "notification".
 */
export function notificationPayload(message: string, data: JsonObject = {}, type = 'notification'): ChannelMessage {
  return {
    channel: 'notifications',
    payload: { type: requireName('type', type), message: requireText('message', message), data: requireObject('data', data), timestamp: timestamp() },
  };
}

/**
 * A message for every connection of one session (channel `session_messages`):
 * `{"type":"session_targeted","sessionId":…,"message":…,"data":{…}}`. The gateway delivers `data`
 * itself to the session room, so `data` should carry the `type` the browser dispatches on.
 */
export function sessionMessagePayload(sessionId: string, message: string, data: JsonObject = {}): ChannelMessage {
  return {
    channel: 'session_messages',
    payload: {
      type: 'session_targeted', sessionId: requireSessionId(sessionId), message: requireText('message', message),
      data: requireObject('data', data), timestamp: timestamp(),
    },
  };
}

/**
 * Any room (channel `room_messages`): `{"type":"room_message","roomId":…, ...fields}`, delivered
 * unchanged to every member. `fields` may not override `type` or `roomId`.
 */
export function roomMessagePayload(roomId: string, fields: JsonObject = {}): ChannelMessage {
  const id = requireText('roomId', roomId, 200);
  const extra = requireObject('fields', fields);
  return { channel: 'room_messages', payload: { timestamp: timestamp(), ...extra, type: 'room_message', roomId: id } };
}

/** Actions the PHP helper accepts for entity notifications. */
export const ENTITY_ACTIONS = ['updated', 'created', 'deleted', 'changed', 'new'] as const;
export type EntityAction = (typeof ENTITY_ACTIONS)[number];

/**
 * Notify the subscribers of one entity (channel `room_messages`), as the PHP helper's
 * sendEntityNotification does: `{"type":"room_message","roomId":"entity_<type>_<id>","entityType",
 * "entityId","action","message","data"}`.
 */
export function entityNotificationPayload(
  entityType: string, entityId: string | number, message: string, action: EntityAction, data: JsonObject = {},
): ChannelMessage {
  const type = requireName('entityType', entityType);
  const id = requireEntityId(entityId);
  if (!(ENTITY_ACTIONS as readonly string[]).includes(action)) {
    throw new PublisherArgumentError('action', `must be one of ${ENTITY_ACTIONS.join(', ')}, got ${JSON.stringify(action)}`);
  }
  return {
    channel: 'room_messages',
    payload: {
      type: 'room_message', roomId: entityRoomId(type, id), entityType: type, entityId: id, action,
      message: requireText('message', message), data: requireObject('data', data), timestamp: timestamp(),
    },
  };
}

/**
 * An `entity_event` for everyone in one entity room (channel `notifications`, `target: "entity"`):
 * `{"type":"entity_event","target":"entity","entityType","entityId","eventType","data"}`.
 */
export function entityEventPayload(entityType: string, entityId: string | number, eventType: string, data: JsonObject = {}): ChannelMessage {
  return {
    channel: 'notifications',
    payload: {
      type: 'entity_event', target: 'entity', entityType: requireName('entityType', entityType), entityId: requireEntityId(entityId),
      eventType: requireName('eventType', eventType), data: requireObject('data', data), timestamp: timestamp(),
    },
  };
}

/**
 * Ask the gateway to look up a session's partial applications and push them to that session
 * (channel `session_messages`): `{"type":"update_partial_applications","sessionId":…}`.
 */
export function partialApplicationsUpdatePayload(sessionId: string): ChannelMessage {
  return { channel: 'session_messages', payload: { type: 'update_partial_applications', sessionId: requireSessionId(sessionId), timestamp: timestamp() } };
}

/**
 * A message for every connection whose verified identity is `userType`/`identifier`, on every
 * gateway (channel `notifications`, `target: "user"`), as PHP's sendToUserRoom publishes it:
 * `{...payload, "target":"user","userType":…,"identifier":…,"timestamp":…}`. Gateways without an
 * identity source deliver it to nobody. The identifier travels on the legacy channel as PHP sends
 * it; the gateway routes by a keyed hash and strips it before delivery.
 */
export function userRoomPayload(userType: string, identifier: string | number, payload: JsonObject = {}): ChannelMessage {
  const type = requireName('userType', userType);
  if (!(typeof identifier === 'number' ? Number.isSafeInteger(identifier) && identifier > 0 : typeof identifier === 'string' && identifier.trim() !== '' && identifier.length <= 256)) {
    throw new PublisherArgumentError('identifier', 'must be a non-empty string (at most 256 characters) or a positive integer');
  }
  return {
    channel: 'notifications',
    payload: { timestamp: timestamp(), ...requireObject('payload', payload), target: 'user', userType: type, identifier },
  };
}
