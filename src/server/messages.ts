/** Builders for every message the server itself originates. Each carries `timestamp`. */
import { randomBytes } from 'node:crypto';
import { TEXTS, type ErrorCode } from '../protocol/constants.js';
import { errorText, type ErrorTextArgs } from '../protocol/errors.js';
import type {
  BookingUserRefresh, ConnectionSuccess, ErrorReply, PartialApplicationsData, PartialApplicationsResponse, PongReply,
  ReconnectRequired, Relayed, RoomPing, ServerPing, SessionIdRequired,
} from '../protocol/types.js';

let nowMs = 0;
let nowIso = '';

/** The current time as ISO 8601, built once per millisecond (every message carries one). */
export function now(): string {
  const ms = Date.now();
  if (ms !== nowMs) {
    nowMs = ms;
    nowIso = new Date(ms).toISOString();
  }
  return nowIso;
}

/** Short unique ids like PHP's uniqid(), used for ping/pong ids. */
export function uniqueId(prefix: string): string {
  return `${prefix}${Date.now().toString(16)}${randomBytes(3).toString('hex')}`;
}

export const connectionSuccess = (roomId: string | null): ConnectionSuccess =>
  ({ type: 'connection_success', message: TEXTS.connected, roomId, timestamp: now() });

export const sessionIdRequired = (): SessionIdRequired =>
  ({ type: 'session_id_required', message: TEXTS.sessionRequired, code: 'NO_SESSION', timestamp: now() });

/** An `error` reply with the text of `code` from the one table (protocol/errors.ts). */
export const errorReply = <C extends ErrorCode>(code: C, ...args: ErrorTextArgs<C>): ErrorReply =>
  ({ type: 'error', message: errorText(code, ...args), code, timestamp: now() });

export const pongReply = (replyTo: string | number | null, heartbeatId: string | number | null): PongReply =>
  ({ type: 'pong', id: uniqueId('pong_'), reply_to: replyTo, heartbeat_id: heartbeatId, timestamp: now() });

export const serverPing = (): ServerPing => ({ type: 'server_ping', id: uniqueId('ping_'), timestamp: now() });

export const roomPing = (roomId: string, pingId: string): RoomPing => ({ type: 'room_ping', roomId, pingId, timestamp: now() });

export const partialApplicationsResponse = (data: PartialApplicationsData): PartialApplicationsResponse =>
  ({ type: 'partial_applications_response', data, timestamp: now() });

/** Tell a session's pages to reload the booking user (PHP's triggerBookingUserUpdate); defaults as PorticoEstate's gateway fills them in. */
export const bookingUserRefresh = (message?: string, action?: string): BookingUserRefresh =>
  ({ type: 'refresh_bookinguser', message: message ?? TEXTS.bookingUserRefreshed, action: action ?? 'refresh', timestamp: now() });

/** Add `timestamp` to a relayed or ingress object that lacks one (the original's rule). */
export function stamped(message: Record<string, unknown>): Relayed {
  return (message.timestamp === undefined ? { ...message, timestamp: now() } : message) as Relayed;
}

export const reconnectRequired = (message: string): ReconnectRequired => ({ type: 'reconnect_required', message, timestamp: now() });
