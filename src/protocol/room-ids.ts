/** Room-id rules shared by every side. Session room ids need md5 and live in the server. */

export const SESSION_ROOM_PREFIX = 'session_';
export const ENTITY_ROOM_PREFIX = 'entity_';
/** `user_` + a keyed hash of user type and identifier (server/identity/user-rooms.ts); never the identifier itself. */
export const USER_ROOM_PREFIX = 'user_';

export type RoomKind = 'session' | 'entity' | 'user' | 'other';

/** `entity_<entityType>_<entityId>`, as the original built it. */
export function entityRoomId(entityType: string, entityId: string | number): string {
  return `${ENTITY_ROOM_PREFIX}${entityType}_${entityId}`;
}

export function roomKind(roomId: string): RoomKind {
  if (roomId.startsWith(SESSION_ROOM_PREFIX)) return 'session';
  if (roomId.startsWith(ENTITY_ROOM_PREFIX)) return 'entity';
  if (roomId.startsWith(USER_ROOM_PREFIX)) return 'user';
  return 'other';
}

/**
 * Session ids never appear in full anywhere a person reads: first 8 chars + `...` (real PHP
 * session ids are 26+ chars). A short id shows at most half of itself, so it is never whole.
 */
export function maskSessionId(sessionId: string | null | undefined): string | null {
  if (!sessionId) return null;
  return `${sessionId.slice(0, Math.min(8, Math.floor(sessionId.length / 2)))}...`;
}
