/** `update_user_info` and `update_session`: who is on the other end of the connection. */
import { ERROR_CODES, TEXTS } from '../../protocol/constants.js';
import { maskSessionId } from '../../protocol/room-ids.js';
import { sessionIdSchema, userIdSchema } from '../../protocol/validate.js';
import type { ClientMessage, SessionUpdateConfirmation, UserInfoUpdateConfirmation } from '../../protocol/types.js';
import { errorReply, now } from '../messages.js';
import type { Handler } from './context.js';

export const handleUpdateUserInfo: Handler<ClientMessage<'update_user_info'>> = (_ctx, conn, msg) => {
  const parsed = userIdSchema.safeParse(msg.userId);
  if (!parsed.success) {
    conn.send(errorReply(ERROR_CODES.INVALID_USER_ID));
    return;
  }
  conn.userId = parsed.data;
  const reply: UserInfoUpdateConfirmation = {
    type: 'user_info_update_confirmation', success: true, message: TEXTS.userInfoUpdated,
    userId: parsed.data, timestamp: now(),
  };
  conn.send(reply);
};

export const handleUpdateSession: Handler<ClientMessage<'update_session'>> = (ctx, conn, msg) => {
  const parsed = sessionIdSchema.safeParse(msg.sessionId);
  if (!parsed.success) {
    conn.send(errorReply(ERROR_CODES.INVALID_SESSION_ID));
    return;
  }
  const sessionId = parsed.data;
  const previous = conn.sessionId;
  const action: SessionUpdateConfirmation['action'] = previous === sessionId ? 'none' : previous ? 'updated' : 'set';
  // The original treats every explicitly set session as a booking session (sessionContext.sessionType).
  if (action !== 'none') ctx.setSession(conn, sessionId, 'booking');
  const reply: SessionUpdateConfirmation = {
    type: 'session_update_confirmation', success: true,
    message: action === 'none' ? TEXTS.sessionUnchanged : action === 'set' ? TEXTS.sessionSet : TEXTS.sessionUpdated,
    action, wasRequired: previous === null, sessionId: maskSessionId(sessionId)!, timestamp: now(),
  };
  conn.send(reply);
};
