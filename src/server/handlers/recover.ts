/** `recover`: send the stream messages the connection missed, then one `recovery_result` (docs/protocol.md). */
import type { ClientMessage } from '../../protocol/types.js';
import type { Handler } from './context.js';

export const handleRecover: Handler<ClientMessage<'recover'>> = async (ctx, conn, msg) => {
  conn.send(await ctx.recovery.recover(conn, msg.streams));
};
