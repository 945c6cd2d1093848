/**
 * The `portico:*` events the client dispatches on `window`. The first eleven are the original
 * client.js contract and carry exactly what it carried; `disconnected`, `recovered` and `resync`
 * are additions.
 */
import type { JsonObject, PartialApplicationsData } from '../protocol/types.js';
import type { RecoveredDetail, ResyncDetail } from './streams.js';

export type { RecoveredDetail, ResyncDetail } from './streams.js';

/** `detail` of `portico:partial_applications`: the response's `data` plus `isServerPush`. */
export type PartialApplicationsDetail = PartialApplicationsData & { isServerPush: boolean };

/** `detail` of `portico:disconnected` (addition). */
export interface DisconnectedDetail {
  /** WebSocket close code (1006 when the connection was lost without a close frame). */
  code: number;
  reason: string;
  wasClean: boolean;
  /** False after `close()`; true when the client will reconnect on its own. */
  willReconnect: boolean;
}

/** Event name (without the `portico:` prefix) → type of `detail`. */
export interface PorticoEventMap {
  /** On `connection_success`: the message itself. Once per established connection. */
  connected: JsonObject;
  notification: JsonObject;
  chat: JsonObject;
  partial_applications: PartialApplicationsDetail;
  user_info_updated: { userId: unknown; success: unknown };
  requires_user_info: { requestType: 'partial_applications' };
  /** Every other message type, and client-requested partial applications responses. */
  message: JsonObject;
  /** A frame that is not JSON: the text as received. */
  raw: unknown;
  /** Before each reconnect attempt. `detail` is null, as in the original. */
  reconnecting: null;
  /** After `sendMessage()` sent a frame: the frame. */
  sent: JsonObject;
  disconnected: DisconnectedDetail;
  /**
   * After every reconnect, once the server answered `recover`: `recovered` is true when every
   * stream message sent meanwhile has now been delivered, once and in order (they were dispatched
   * before this event); `missed` is how many the server re-sent.
   */
  recovered: RecoveredDetail;
  /** Right after `recovered` when it is false: some messages may be lost, reload the page's state. */
  resync: ResyncDetail;
}

export type PorticoEventName = keyof PorticoEventMap;

/**
 * Hooks only reachable through `client.on()` (never dispatched on `window`, so pages that listen
 * there see the original traffic): `receive` gets every parsed incoming message, `send` every
 * frame the client writes, including pings and restores.
 */
export interface ClientHookMap {
  receive: JsonObject;
  send: JsonObject;
}

export type ClientEventMap = PorticoEventMap & ClientHookMap;
export type ClientEventName = keyof ClientEventMap;

export const EVENT_PREFIX = 'portico:';
