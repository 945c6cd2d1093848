/**
 * The PorticoEstate WebSocket browser client, for apps that bundle (ESM). Pages that include
 * the served `/client.js` get the same `createWebSocketClient` as a global instead.
 */
import { createBrowserEnvironment } from './browser-environment.js';
import { WebSocketClient } from './client.js';
import type { ClientOptions } from './options.js';

export { WebSocketClient, type ClientState, type ConnectionStatus, type EntityRef } from './client.js';
export type { ClientOptions } from './options.js';
export type { ClientEnvironment, SocketLike, StatusView } from './environment.js';
export type {
  ClientEventMap, ClientEventName, ClientHookMap, DisconnectedDetail, PartialApplicationsDetail, PorticoEventMap, PorticoEventName,
  RecoveredDetail, ResyncDetail,
} from './events.js';
export type { StreamPosition } from './streams.js';
export type {
  ClientFrame, ClientType, ErrorReply, JsonObject, PartialApplicationsData, ServerMessage, ServerType,
} from '../protocol/types.js';

/**
 * Connect to `customUrl` (default `ws(s)://<page host>/wss`) and return the client. Like the
 * original, the newest client is also stored as `window.porticoWsClient`.
 */
export function createWebSocketClient(customUrl?: string | null, options?: ClientOptions): WebSocketClient {
  const client = new WebSocketClient(createBrowserEnvironment(window), customUrl, options);
  (window as Window & { porticoWsClient?: WebSocketClient }).porticoWsClient = client;
  return client;
}
