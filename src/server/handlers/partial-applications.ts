/** `get_partial_applications`: the connection's own session only, one look-up in flight per connection. */
import { partialApplicationsResponse } from '../messages.js';
import type { ClientMessage } from '../../protocol/types.js';
import type { Handler } from './context.js';

export const handleGetPartialApplications: Handler<ClientMessage<'get_partial_applications'>> = async (ctx, conn) => {
  const data = await ctx.partials.lookup(conn.sessionId, conn.id);
  conn.send(partialApplicationsResponse(data));
};
