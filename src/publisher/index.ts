/**
 * `portico-ws/publisher`: publish to PorticoEstate's WebSocket gateway from Node, with the same
 * payloads the PHP helper produces. Use `createPublisher(options)` for explicit configuration, or
 * the module functions, which share one publisher configured from the environment
 * (REDIS_URL or REDIS_HOST/REDIS_PORT, WSS_PUBLISH_URL + WSS_PUBLISH_TOKEN, WSS_SPOOL_DIR).
 *
 * ```ts
 * import { sendWebSocketNotification } from 'portico-ws/publisher';
 * const { path, receivers } = await sendWebSocketNotification('New booking created', { id: 7 });
 * ```
 */
import type { JsonObject } from '../protocol/types.js';
import { publisherOptionsFromEnv } from './env.js';
import type { EntityAction } from './payloads.js';
import { Publisher, type PublishResult } from './publisher.js';

export { CHANNELS, type LegacyChannel } from '../protocol/constants.js';
export type { JsonObject } from '../protocol/types.js';
export { describePublisherEnv, publisherOptionsFromEnv } from './env.js';
export { HttpPublishError } from './http-path.js';
export {
  ENTITY_ACTIONS, PublisherArgumentError, entityEventPayload, entityNotificationPayload, notificationPayload,
  partialApplicationsUpdatePayload, roomMessagePayload, sessionMessagePayload, userRoomPayload, type ChannelMessage, type EntityAction,
} from './payloads.js';
export { PublishError, Publisher, createPublisher, type PublishPath, type PublishResult, type PublisherOptions } from './publisher.js';
export { spoolFileName } from './spool-path.js';

let shared: Publisher | null = null;

/** The publisher behind the module functions, created from `process.env` on first use. */
export function defaultPublisher(): Publisher {
  shared ??= new Publisher(publisherOptionsFromEnv(process.env));
  return shared;
}

/** Close the default publisher's Redis connection (lets a script exit). */
export async function closeDefaultPublisher(): Promise<void> {
  const p = shared;
  shared = null;
  await p?.close();
}

/** Broadcast `{type, message, data, timestamp}` on `notifications` (type defaults to "notification"). */
export const sendWebSocketNotification = (message: string, data: JsonObject = {}, type = 'notification'): Promise<PublishResult> =>
  defaultPublisher().sendWebSocketNotification(message, data, type);

/** `session_targeted` on `session_messages`: the gateway delivers `data` to the session's connections. */
export const sendToSession = (sessionId: string, message: string, data: JsonObject = {}): Promise<PublishResult> =>
  defaultPublisher().sendToSession(sessionId, message, data);

/** `room_message` on `room_messages`, delivered unchanged to the room's members. */
export const sendRoomMessage = (roomId: string, fields: JsonObject = {}): Promise<PublishResult> =>
  defaultPublisher().sendRoomMessage(roomId, fields);

/** Entity notification (`room_message` to `entity_<type>_<id>`). */
export const sendEntityNotification = (
  entityType: string, entityId: string | number, message: string, action: EntityAction, data: JsonObject = {},
): Promise<PublishResult> => defaultPublisher().sendEntityNotification(entityType, entityId, message, action, data);

/** `entity_event` on `notifications` with `target: "entity"`. */
export const sendEntityEvent = (entityType: string, entityId: string | number, eventType: string, data: JsonObject = {}): Promise<PublishResult> =>
  defaultPublisher().sendEntityEvent(entityType, entityId, eventType, data);

/** `update_partial_applications` on `session_messages`. */
export const triggerPartialApplicationsUpdate = (sessionId: string): Promise<PublishResult> =>
  defaultPublisher().triggerPartialApplicationsUpdate(sessionId);

/** `target: "user"` on `notifications`: the connections of one verified user (`bb_user` + SSN, `phpgw_accounts` + id). */
export const sendToUserRoom = (userType: string, identifier: string | number, payload: JsonObject = {}): Promise<PublishResult> =>
  defaultPublisher().sendToUserRoom(userType, identifier, payload);
