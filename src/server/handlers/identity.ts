/**
 * `update_user_info` and `update_session`: who is on the other end of the connection. Only
 * the identity resolver decides identities (and so user rooms); `ssn`, `accountId` and `userId`
 * sent by the client are claims that never change them: one that contradicts what was verified
 * is answered with IDENTITY_MISMATCH (update_user_info is then not applied).
 */
import { ERROR_CODES, TEXTS } from '../../protocol/constants.js';
import { maskSessionId } from '../../protocol/room-ids.js';
import { sessionIdSchema, userIdSchema } from '../../protocol/validate.js';
import type { ClientMessage, SessionUpdateConfirmation, UserInfoUpdateConfirmation } from '../../protocol/types.js';
import { NO_IDENTITIES } from '../identity/resolver.js';
import { errorReply, now } from '../messages.js';
import type { Handler } from './context.js';
import { announceRoomJoined, roomsField } from './dialect.js';

export const handleUpdateUserInfo: Handler<ClientMessage<'update_user_info'>> = (ctx, conn, msg) => {
  const parsed = userIdSchema.safeParse(msg.userId);
  if (!parsed.success) {
    conn.send(errorReply(ERROR_CODES.INVALID_USER_ID));
    return;
  }
  if (ctx.identity.contradiction(conn.identities, msg) !== null) {
    conn.send(errorReply(ERROR_CODES.IDENTITY_MISMATCH, 'userId'));
    return;
  }
  conn.userId = parsed.data;
  const reply: UserInfoUpdateConfirmation = {
    type: 'user_info_update_confirmation', success: true, message: TEXTS.userInfoUpdated,
    userId: parsed.data, timestamp: now(),
  };
  conn.send(reply);
};

export const handleUpdateSession: Handler<ClientMessage<'update_session'>> = async (ctx, conn, msg) => {
  const parsed = sessionIdSchema.safeParse(msg.sessionId);
  if (!parsed.success) {
    conn.send(errorReply(ERROR_CODES.INVALID_SESSION_ID));
    return;
  }
  const sessionId = parsed.data;
  const previous = conn.sessionId;
  const action: SessionUpdateConfirmation['action'] = previous === sessionId ? 'none' : previous ? 'updated' : 'set';
  // The session moves at once, as before identities existed: frames right behind this one
  // (get_partial_applications, subscribe) already act for the new session.
  // The original treats every explicitly set session as a booking session (sessionContext.sessionType).
  if (action !== 'none') ctx.setSession(conn, sessionId, 'booking');
  const { ticket, outcome } = await ctx.identity.forSession(conn, sessionId, msg.token);
  if (ctx.identity.isCurrent(conn, ticket)) ctx.identity.settle(conn, outcome);
  if (outcome.kind === 'invalid_token') conn.send(errorReply(ERROR_CODES.INVALID_TOKEN, outcome.reason));
  const claim = ctx.identity.contradiction(outcome.kind === 'resolved' ? outcome.identities : NO_IDENTITIES, msg);
  if (claim !== null) conn.send(errorReply(ERROR_CODES.IDENTITY_MISMATCH, claim));
  if (action !== 'none' && conn.sessionRoom !== null) announceRoomJoined(ctx.rooms, conn, conn.sessionRoom);
  const reply: SessionUpdateConfirmation = {
    type: 'session_update_confirmation', success: true,
    message: action === 'none' ? TEXTS.sessionUnchanged : action === 'set' ? TEXTS.sessionSet : TEXTS.sessionUpdated,
    action, wasRequired: previous === null, sessionId: maskSessionId(sessionId)!, timestamp: now(),
    ...roomsField(ctx.rooms, conn),
  };
  // Where the rooms the connection is in now stand (the session room and user rooms may be new).
  const positions = await ctx.recovery.positions(conn.roomIds());
  conn.send(positions ? { ...reply, stream_positions: positions } : reply);
};
