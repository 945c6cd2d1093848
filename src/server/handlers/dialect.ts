/**
 * Replies only the Socket.IO dialect gets, in the shapes of PorticoEstate's NestJS gateway
 * (`room_joined`, the `rooms` list). The legacy dialect keeps the PHP server's replies.
 */
import { TEXTS } from '../../protocol/constants.js';
import { roomKind } from '../../protocol/room-ids.js';
import type { RoomInfo, RoomJoined } from '../../protocol/types.js';
import type { Connection } from '../connection.js';
import { now } from '../messages.js';
import type { RoomRegistry } from '../rooms.js';

export function roomsInfo(rooms: RoomRegistry, conn: Connection): RoomInfo[] {
  return conn.roomIds().map((id) => ({ id, size: rooms.size(id), type: roomKind(id) }));
}

/** `room_joined` for a Socket.IO connection; nothing for a legacy one. */
export function announceRoomJoined(rooms: RoomRegistry, conn: Connection, roomId: string, entity?: { entityType: string; entityId: string | number }): void {
  if (conn.dialect !== 'socketio') return;
  const joined: RoomJoined = entity
    ? { type: 'room_joined', roomId, roomType: 'entity', ...entity, message: TEXTS.entityRoomJoined, roomSize: rooms.size(roomId), timestamp: now() }
    : { type: 'room_joined', roomId, roomType: 'session', message: TEXTS.sessionRoomJoined, roomSize: rooms.size(roomId), timestamp: now() };
  conn.send(joined);
}

/** The `rooms` field Socket.IO replies carry, absent for legacy connections. */
export function roomsField(rooms: RoomRegistry, conn: Connection): { rooms?: RoomInfo[] } {
  return conn.dialect === 'socketio' ? { rooms: roomsInfo(rooms, conn) } : {};
}
