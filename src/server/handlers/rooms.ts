/** Entity subscriptions and room-scoped relays: subscribe, unsubscribe, room_message, session_message, entity_event, room_ping_response. */
import { ERROR_CODES, TEXTS } from '../../protocol/constants.js';
import { entityRoomId, roomKind } from '../../protocol/room-ids.js';
import type { SubscriptionConfirmation } from '../../protocol/types.js';
import { errorReply, now, stamped } from '../messages.js';
import { withSessionContext, type Handler } from './context.js';

type EntityRef = { entityType: string; entityId: string | number };
type Relayed = Record<string, unknown>;

function confirmation(msg: EntityRef, status: SubscriptionConfirmation['status']): SubscriptionConfirmation {
  const roomId = entityRoomId(msg.entityType, msg.entityId);
  return { type: 'subscription_confirmation', entityType: msg.entityType, entityId: msg.entityId, status, roomId, timestamp: now() };
}

export const handleSubscribe: Handler<EntityRef> = (ctx, conn, msg) => {
  const roomId = entityRoomId(msg.entityType, msg.entityId);
  const max = ctx.config.limits.maxRoomsPerConnection;
  if (!conn.rooms.has(roomId) && entityRoomCount(conn.rooms) >= max) {
    conn.send(errorReply(ERROR_CODES.TOO_MANY_ROOMS, `A connection may subscribe to at most ${max} rooms; unsubscribe from one first`));
    return;
  }
  ctx.rooms.join(conn, roomId);
  conn.send(confirmation(msg, 'subscribed'));
};

/** Rooms the client chose (entity rooms); the session room and other server-assigned rooms do not count. */
function entityRoomCount(rooms: Iterable<string>): number {
  let n = 0;
  for (const id of rooms) if (roomKind(id) === 'entity') n += 1;
  return n;
}

export const handleUnsubscribe: Handler<EntityRef> = (ctx, conn, msg) => {
  ctx.rooms.leave(conn, entityRoomId(msg.entityType, msg.entityId));
  conn.send(confirmation(msg, 'unsubscribed'));
};

export const handleRoomMessage: Handler<Relayed & { roomId: string }> = (ctx, conn, msg) => {
  if (!ctx.rooms.isMember(conn, msg.roomId)) {
    conn.send(errorReply(ERROR_CODES.ROOM_ACCESS_DENIED, TEXTS.roomAccessDenied));
    return;
  }
  ctx.relay.toRoom(msg.roomId, stamped(withSessionContext(conn, msg)), conn);
};

export const handleSessionMessage: Handler<Relayed> = (ctx, conn, msg) => {
  if (!conn.sessionRoom) {
    conn.send(errorReply(ERROR_CODES.NO_SESSION, TEXTS.noSession));
    return;
  }
  const relayed = { ...withSessionContext(conn, msg), type: 'room_message', roomId: conn.sessionRoom };
  ctx.relay.toRoom(conn.sessionRoom, stamped(relayed), conn);
};

export const handleEntityEvent: Handler<Relayed & EntityRef> = (ctx, conn, msg) => {
  const roomId = entityRoomId(msg.entityType, msg.entityId);
  // Only members speak in a room (as room_message): a client cannot push events into a room it never joined.
  if (!ctx.rooms.isMember(conn, roomId)) {
    conn.send(errorReply(ERROR_CODES.ROOM_ACCESS_DENIED, TEXTS.roomAccessDenied));
    return;
  }
  // Relayed to the room wherever it has members; instances without it deliver to nobody.
  ctx.relay.toRoom(roomId, stamped(withSessionContext(conn, msg)), conn);
};

export const handleRoomPingResponse: Handler<{ roomId: string }> = (ctx, conn, msg) => {
  ctx.rooms.touch(conn, msg.roomId);
};
