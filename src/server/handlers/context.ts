/** What a message handler may use. Built once by the gateway and shared by all handlers. */
import type { ClientMessage, ClientType, JsonObject } from '../../protocol/types.js';
import type { Config } from '../config/index.js';
import type { Connection } from '../connection.js';
import type { PartialApplicationsService } from '../data/partial-applications.js';
import type { SubscribeAuthorization } from '../auth/subscribe-authorization.js';
import type { IdentityBinding } from '../identity/binding.js';
import type { Logger } from '../log.js';
import type { Recovery } from '../recovery/recovery.js';
import type { Relay } from '../relay.js';
import type { RoomRegistry } from '../rooms.js';

export interface HandlerContext {
  config: Config;
  log: Logger;
  rooms: RoomRegistry;
  relay: Relay;
  partials: PartialApplicationsService;
  recovery: Recovery;
  /** Verified identities and the user rooms that follow them. */
  identity: IdentityBinding;
  /** Whether PorticoEstate lets a session into an entity room (open unless configured). */
  subscribeAuth: SubscribeAuthorization;
  /** Move a connection into the session room for `sessionId` (leaving its old one). */
  setSession(conn: Connection, sessionId: string, type: 'booking' | 'standard'): void;
}

export type Handler<M> = (ctx: HandlerContext, conn: Connection, msg: M) => void | Promise<void>;

/** One handler per client type, each receiving the message as its schema validated it. */
export type HandlerTable = { [K in ClientType]: Handler<ClientMessage<K>> };

/** Fields relayed client messages gain when the sender has a session (docs/protocol.md). */
export function withSessionContext(conn: Connection, msg: JsonObject): JsonObject {
  if (!conn.sessionType) return msg;
  return { ...msg, sessionContext: { hasSession: true, sessionType: conn.sessionType } };
}
