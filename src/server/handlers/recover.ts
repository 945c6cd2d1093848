/** `recover`: send the stream messages the connection missed, then one `recovery_result` (docs/protocol.md, "Recovery"). */
import type { StreamPosition } from '../broker/broker.js';
import type { Handler } from './context.js';

export const handleRecover: Handler<{ streams: Record<string, StreamPosition> }> = async (ctx, conn, msg) => {
  conn.send(await ctx.recovery.recover(conn, msg.streams));
};
