/** `ping` (application-level heartbeat from the client) and `pong` (answer to server_ping). */
import type { ClientMessage } from '../../protocol/types.js';
import type { Handler } from './context.js';
import { pongReply } from '../messages.js';

export const handlePing: Handler<ClientMessage<'ping'>> = (_ctx, conn, msg) => {
  conn.send(pongReply(msg.id ?? null, msg.heartbeat_id ?? null));
};

export const handlePong: Handler<ClientMessage<'pong'>> = (ctx, conn, msg) => {
  // Liveness was already recorded by the dispatcher; the RTT is only of debugging interest.
  if (typeof msg.client_timestamp === 'number') {
    ctx.log.debug({ conn: conn.id, rttMs: Date.now() - msg.client_timestamp }, 'pong');
  }
};
