/** Session identity: which cookie names a session, and the session room it maps to. */
import { createHash } from 'node:crypto';
import { SESSION_ROOM_PREFIX } from '../protocol/room-ids.js';
import { SESSION_ID_PATTERN } from '../protocol/validate.js';

export type SessionType = 'booking' | 'standard';
export type SessionCookieName = 'bookingfrontendsession' | 'PHPSESSID';

/** The cookie a session of this type travels in (sessions set by update_session count as booking). */
export function sessionCookieName(type: SessionType | null): SessionCookieName {
  return type === 'standard' ? 'PHPSESSID' : 'bookingfrontendsession';
}

/** Room ids of recent sessions: every message to a session needs its room (bounded; cleared when full). */
const roomIds = new Map<string, string>();
const MAX_REMEMBERED_ROOM_IDS = 10_000;

/** `session_` + first 10 hex chars of md5(sessionId), as the original computed it. */
export function sessionRoomId(sessionId: string): string {
  let roomId = roomIds.get(sessionId);
  if (roomId === undefined) {
    roomId = SESSION_ROOM_PREFIX + createHash('md5').update(sessionId).digest('hex').slice(0, 10);
    if (roomIds.size >= MAX_REMEMBERED_ROOM_IDS) roomIds.clear();
    roomIds.set(sessionId, roomId);
  }
  return roomId;
}

/** Parse a Cookie header without keeping it: `bookingfrontendsession` wins, else `PHPSESSID`. */
export function sessionFromCookies(header: string | undefined): { sessionId: string; type: SessionType } | null {
  if (!header) return null;
  let standard: string | null = null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name !== 'bookingfrontendsession' && name !== 'PHPSESSID') continue;
    let value = part.slice(eq + 1).trim();
    try { value = decodeURIComponent(value); } catch { continue; }
    if (!SESSION_ID_PATTERN.test(value)) continue;
    if (name === 'bookingfrontendsession') return { sessionId: value, type: 'booking' };
    standard ??= value;
  }
  return standard ? { sessionId: standard, type: 'standard' } : null;
}
