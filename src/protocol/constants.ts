/**
 * Wire constants shared by the server, the browser client and the publisher.
 * Pure module: no Node or browser APIs, so every side can import it.
 */

/** Redis channels the PHP application publishes on (and spool files mirror). */
export const CHANNELS = ['notifications', 'session_messages', 'room_messages'] as const;
export type LegacyChannel = (typeof CHANNELS)[number];

/** Stable error codes carried in `{"type":"error","code":…}` replies. */
export const ERROR_CODES = {
  INVALID_JSON: 'INVALID_JSON',
  INVALID_MESSAGE: 'INVALID_MESSAGE',
  INVALID_USER_ID: 'INVALID_USER_ID',
  INVALID_SESSION_ID: 'INVALID_SESSION_ID',
  NO_SESSION: 'NO_SESSION',
  ROOM_ACCESS_DENIED: 'ROOM_ACCESS_DENIED',
  RATE_LIMITED: 'RATE_LIMITED',
  BROADCAST_DISABLED: 'BROADCAST_DISABLED',
  INTERNAL_ERROR: 'INTERNAL_ERROR',
  /** A client sent a type only the server sends (message-types.ts); relayed to nobody. */
  FORBIDDEN_TYPE: 'FORBIDDEN_TYPE',
  /** `subscribe` beyond WSS_MAX_ROOMS_PER_CONNECTION entity rooms. */
  TOO_MANY_ROOMS: 'TOO_MANY_ROOMS',
  /** A signed identity token that is forged, expired, malformed or issued for another session. */
  INVALID_TOKEN: 'INVALID_TOKEN',
  /** A claimed `ssn`/`accountId`/`userId` that contradicts the identity the gateway verified. */
  IDENTITY_MISMATCH: 'IDENTITY_MISMATCH',
  /** PorticoEstate did not allow this session into the entity room (WSS_SUBSCRIBE_AUTH_URL). */
  SUBSCRIBE_DENIED: 'SUBSCRIBE_DENIED',
  /** A request type PorticoEstate's NestJS gateway served that this gateway does not (UNSUPPORTED_REQUEST_TYPES). */
  UNSUPPORTED_TYPE: 'UNSUPPORTED_TYPE',
} as const;
export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

/**
 * Requests of PorticoEstate's NestJS gateway that write to or read beyond what this gateway
 * serves (booking, free time, delivered applications). Answered `error` UNSUPPORTED_TYPE on
 * both endpoints, never relayed: they carry a session's data and would otherwise be broadcast
 * as unknown types.
 */
export const UNSUPPORTED_REQUEST_TYPES: ReadonlySet<string> = new Set([
  'get_delivered_applications', 'get_application_detail', 'get_free_time',
  'create_simple_application', 'delete_partial_application', 'add_application_comment',
]);

/** WebSocket close codes the gateway uses (RFC 6455 §7.4.1). */
export const CLOSE_CODES = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  /** The instance is draining for a restart: reconnect (to another instance). */
  SERVICE_RESTART: 1012,
  TRY_AGAIN_LATER: 1013,
} as const;

/** Fixed human-readable texts the original server sent; clients may match on them. */
export const TEXTS = {
  connected: 'Successfully connected to WebSocket server',
  sessionRequired: 'Please provide your session ID via an update_session message',
  userInfoUpdated: 'User information updated successfully',
  roomAccessDenied: 'Not authorized to send to this room',
  noSession: 'No session found',
  databaseNotConnected: 'Database not connected',
  lookupFailed: 'Failed to retrieve partial applications',
  invalidSessionId: 'Invalid session ID provided',
  /** update_session on a connection that had no session (the original's "initial setup" text). */
  sessionSet: 'Session ID set successfully',
  sessionUpdated: 'Session ID updated',
  sessionUnchanged: 'Session ID is unchanged',
  identityMismatch: 'does not match the verified identity of this session; the claim was refused',
  subscribeDenied: 'Not authorized to subscribe to this entity',
  /** refresh_bookinguser defaults, as PorticoEstate's current gateway fills them in. */
  bookingUserRefreshed: 'User data has been updated',
  /** Socket.IO dialect (the NestJS gateway's texts). */
  sessionRoomJoined: 'You have been added to a session room',
  entityRoomJoined: 'You have been added to an entity room',
  serverGoingAway: 'Server is shutting down; please reconnect',
} as const;

export const SESSION_COOKIE_NAMES = ['bookingfrontendsession', 'PHPSESSID'] as const;
