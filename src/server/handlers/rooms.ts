/** Entity subscriptions and room-scoped relays: subscribe, unsubscribe, room_message, session_message, entity_event, room_ping_response. */
import { ERROR_CODES } from '../../protocol/constants.js';
import { entityRoomId, roomKind } from '../../protocol/room-ids.js';
import type { ClientMessage, SubscriptionConfirmation } from '../../protocol/types.js';
import type { Connection } from '../connection.js';
import { errorReply, now, stamped } from '../messages.js';
import { withSessionContext, type Handler } from './context.js';
import { announceRoomJoined } from './dialect.js';

type EntityRef = { entityType: string; entityId: string | number };

function confirmation(msg: EntityRef, status: SubscriptionConfirmation['status']): SubscriptionConfirmation {
  const roomId = entityRoomId(msg.entityType, msg.entityId);
  return { type: 'subscription_confirmation', entityType: msg.entityType, entityId: msg.entityId, status, roomId, timestamp: now() };
}

export const handleSubscribe: Handler<ClientMessage<'subscribe'>> = async (ctx, conn, msg) => {
  const roomId = entityRoomId(msg.entityType, msg.entityId);
  if (refusedOverRoomCap(ctx.config.limits.maxRoomsPerConnection, conn, roomId)) return;
  if (!conn.inRoom(roomId) && ctx.subscribeAuth.checks(msg.entityType)) {
    if (await ctx.subscribeAuth.authorize(conn, msg.entityType, msg.entityId) !== 'allowed') {
      conn.send(errorReply(ERROR_CODES.SUBSCRIBE_DENIED));
      return;
    }
    if (!conn.isOpen) return; // closed while PorticoEstate was asked
    // Other subscribes may have joined rooms while PorticoEstate was asked.
    if (refusedOverRoomCap(ctx.config.limits.maxRoomsPerConnection, conn, roomId)) return;
  }
  ctx.rooms.join(conn, roomId);
  const positions = await ctx.recovery.positions([roomId]);
  announceRoomJoined(ctx.rooms, conn, roomId, { entityType: msg.entityType, entityId: msg.entityId });
  conn.send(positions ? { ...confirmation(msg, 'subscribed'), stream_positions: positions } : confirmation(msg, 'subscribed'));
};

/** A new entity room beyond WSS_MAX_ROOMS_PER_CONNECTION gets TOO_MANY_ROOMS; the session room and other server-assigned rooms do not count. */
function refusedOverRoomCap(max: number, conn: Connection, roomId: string): boolean {
  if (conn.inRoom(roomId)) return false;
  let entityRooms = 0;
  for (const id of conn.roomIds()) if (roomKind(id) === 'entity') entityRooms += 1;
  if (entityRooms < max) return false;
  conn.send(errorReply(ERROR_CODES.TOO_MANY_ROOMS, max));
  return true;
}

export const handleUnsubscribe: Handler<ClientMessage<'unsubscribe'>> = (ctx, conn, msg) => {
  ctx.rooms.leave(conn, entityRoomId(msg.entityType, msg.entityId));
  conn.send(confirmation(msg, 'unsubscribed'));
};

export const handleRoomMessage: Handler<ClientMessage<'room_message'>> = (ctx, conn, msg) => {
  if (!ctx.rooms.isMember(conn, msg.roomId)) {
    conn.send(errorReply(ERROR_CODES.ROOM_ACCESS_DENIED));
    return;
  }
  ctx.relay.toRoom(msg.roomId, stamped(withSessionContext(conn, msg)), conn);
};

export const handleSessionMessage: Handler<ClientMessage<'session_message'>> = (ctx, conn, msg) => {
  if (!conn.sessionRoom) {
    conn.send(errorReply(ERROR_CODES.NO_SESSION));
    return;
  }
  const relayed = { ...withSessionContext(conn, msg), type: 'room_message', roomId: conn.sessionRoom };
  ctx.relay.toRoom(conn.sessionRoom, stamped(relayed), conn);
};

export const handleEntityEvent: Handler<ClientMessage<'entity_event'>> = (ctx, conn, msg) => {
  const roomId = entityRoomId(msg.entityType, msg.entityId);
  // Only members speak in a room (as room_message): a client cannot push events into a room it never joined.
  if (!ctx.rooms.isMember(conn, roomId)) {
    conn.send(errorReply(ERROR_CODES.ROOM_ACCESS_DENIED));
    return;
  }
  // Relayed to the room wherever it has members; instances without it deliver to nobody.
  ctx.relay.toRoom(roomId, stamped(withSessionContext(conn, msg)), conn);
};

export const handleRoomPingResponse: Handler<ClientMessage<'room_ping_response'>> = (ctx, conn, msg) => {
  ctx.rooms.touch(conn, msg.roomId);
};
