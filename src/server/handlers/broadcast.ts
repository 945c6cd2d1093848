/**
 * Client-originated broadcasts: `chat` (to all others), `notification` (to all, sender
 * included) and any unknown type (to all others). Marked `source: "client"` so receivers can
 * tell them from server messages, and restricted by WSS_CLIENT_BROADCAST.
 */
import { ERROR_CODES } from '../../protocol/constants.js';
import type { JsonObject } from '../../protocol/types.js';
import { errorReply, stamped } from '../messages.js';
import { withSessionContext, type Handler } from './context.js';

function makeBroadcast(kind: 'chat' | 'notification' | 'other', includeSender: boolean): Handler<JsonObject> {
  return (ctx, conn, msg) => {
    const policy = ctx.config.clientBroadcast;
    if (policy === 'none' || (policy === 'chat' && kind !== 'chat')) {
      conn.send(errorReply(ERROR_CODES.BROADCAST_DISABLED));
      return;
    }
    const relayed = stamped({ ...withSessionContext(conn, msg), source: 'client' });
    ctx.relay.toAll(relayed, includeSender ? undefined : conn);
  };
}

export const handleChat = makeBroadcast('chat', false);
export const handleNotification = makeBroadcast('notification', true);
export const handleUnknown = makeBroadcast('other', false);
