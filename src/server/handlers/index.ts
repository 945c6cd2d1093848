/**
 * The dispatcher: parse a frame, validate it against its type's schema, and call the handler
 * registered for that type. Unknown types are relayed as broadcasts.
 */
import { ERROR_CODES, UNSUPPORTED_REQUEST_TYPES } from '../../protocol/constants.js';
import { isServerOnlyType } from '../../protocol/message-types.js';
import type { ClientMessage, ClientType } from '../../protocol/types.js';
import { isKnownClientType, isPlainObject, validateClientMessage } from '../../protocol/validate.js';
import type { Connection } from '../connection.js';
import { errorReply } from '../messages.js';
import { handleChat, handleNotification, handleUnknown } from './broadcast.js';
import type { HandlerContext, HandlerTable } from './context.js';
import { handlePing, handlePong } from './heartbeat.js';
import { handleUpdateSession, handleUpdateUserInfo } from './identity.js';
import { handleGetPartialApplications } from './partial-applications.js';
import { handleRecover } from './recover.js';
import {
  handleEntityEvent, handleRoomMessage, handleRoomPingResponse, handleSessionMessage, handleSubscribe, handleUnsubscribe,
} from './rooms.js';

// Each handler receives the message as validated by its schema in protocol/validate.ts.
const handlers: HandlerTable = {
  ping: handlePing,
  pong: handlePong,
  update_user_info: handleUpdateUserInfo,
  update_session: handleUpdateSession,
  get_partial_applications: handleGetPartialApplications,
  subscribe: handleSubscribe,
  unsubscribe: handleUnsubscribe,
  room_message: handleRoomMessage,
  session_message: handleSessionMessage,
  entity_event: handleEntityEvent,
  room_ping_response: handleRoomPingResponse,
  chat: handleChat,
  notification: handleNotification,
  recover: handleRecover,
};

export type DispatchOutcome = { type: string; error?: string };

/**
 * Handle one decoded message (a parsed frame, or a Socket.IO `message` event's argument). Never
 * throws; every failure becomes an `error` reply.
 */
export async function dispatchMessage(ctx: HandlerContext, conn: Connection, msg: unknown): Promise<DispatchOutcome> {
  if (!isPlainObject(msg)) {
    conn.send(errorReply(ERROR_CODES.INVALID_MESSAGE));
    return { type: 'invalid', error: ERROR_CODES.INVALID_MESSAGE };
  }
  const type = msg.type;
  if (isServerOnlyType(type)) {
    conn.send(errorReply(ERROR_CODES.FORBIDDEN_TYPE, type));
    return { type, error: ERROR_CODES.FORBIDDEN_TYPE };
  }
  try {
    if (typeof type === 'string' && UNSUPPORTED_REQUEST_TYPES.has(type)) {
      conn.send(errorReply(ERROR_CODES.UNSUPPORTED_TYPE, type));
      return { type: 'unsupported', error: ERROR_CODES.UNSUPPORTED_TYPE };
    }
    if (!isKnownClientType(type)) {
      await handleUnknown(ctx, conn, msg);
      return { type: typeof type === 'string' ? 'unknown' : 'untyped' };
    }
    const checked = validateClientMessage(type, msg);
    if (!checked.ok) {
      conn.send(errorReply(ERROR_CODES.INVALID_MESSAGE, checked.issue));
      return { type, error: ERROR_CODES.INVALID_MESSAGE };
    }
    await runHandler(ctx, conn, type, checked.value);
    return { type };
  } catch (err) {
    ctx.log.error({ err, conn: conn.id, type }, 'message handler failed');
    conn.send(errorReply(ERROR_CODES.INTERNAL_ERROR));
    return { type: String(type), error: ERROR_CODES.INTERNAL_ERROR };
  }
}

/** Generic in K so TypeScript matches `handlers[type]` with its message type. */
function runHandler<K extends ClientType>(ctx: HandlerContext, conn: Connection, type: K, msg: ClientMessage<K>): void | Promise<void> {
  return handlers[type](ctx, conn, msg);
}
