/**
 * Who may send which message type. Pure module: the server refuses these types from clients,
 * the browser client ignores them when they arrive relayed from another client.
 */

/**
 * Types only the server (or the PHP application through it) sends. A client frame carrying one
 * is refused with `FORBIDDEN_TYPE` and relayed to nobody, so no client can forge a greeting, a
 * confirmation, a ping, a partial-applications push or a notification for the bell.
 * Not here, because clients send them too: `pong` (the answer to `server_ping`), `chat`,
 * `notification`, `room_message`, `entity_event`, `room_ping_response`.
 */
export const SERVER_ONLY_TYPES = [
  // greetings and replies of the legacy protocol (PROTOCOL.md)
  'connection_success', 'session_id_required', 'error',
  'user_info_update_confirmation', 'session_update_confirmation', 'subscription_confirmation',
  'partial_applications_response',
  // periodic
  'server_ping', 'server_pong', 'room_ping',
  // history: the answer to `recover`
  'recovery_result',
  // what PorticoEstate publishes for the gateway to route (Redis channels, spool files)
  'session_targeted', 'update_partial_applications', 'refresh_bookinguser', 'server_message',
  'notification_event', 'cache_invalidation',
  // PorticoEstate's NestJS gateway: room joins, reconnect orders and request replies
  'room_joined', 'reconnect_required',
  'delivered_applications_response', 'application_detail_response', 'free_time_response',
  'create_application_response', 'delete_application_response', 'add_comment_response',
] as const;

export type ServerOnlyType = (typeof SERVER_ONLY_TYPES)[number];

const SERVER_ONLY = new Set<string>(SERVER_ONLY_TYPES);

/** True for a type only the server may send (the list above, and any `*_confirmation`). */
export function isServerOnlyType(type: unknown): type is string {
  return typeof type === 'string' && (SERVER_ONLY.has(type) || type.endsWith('_confirmation'));
}
