/**
 * Every error code the gateway sends in `{"type":"error","code":…,"message":…}`, with the text a
 * person reads and, where the error can end the connection, the close code. One table: replies
 * take their text from here (server/messages.ts `errorReply`), docs/protocol.md is generated from
 * it (scripts/update-protocol-doc.mjs), and its test fails when they differ.
 *
 * To add a code: add it to ERROR_CODES in constants.ts, then here (typecheck fails until you do).
 * A text that names specifics of the message is a function; `errorReply` then requires its arguments.
 * Pure module: no Node or browser APIs, no zod.
 */
import { CLOSE_CODES, TEXTS, type ErrorCode } from './constants.js';

/** A field of a client message that is missing or of the wrong kind. */
export interface FieldIssue {
  /** The message's `type`, e.g. `subscribe`. */
  type: string;
  field: string;
  /** What the field must be, in words, e.g. `a non-empty string`. */
  expected: string;
}

interface EntryBase {
  /** When the gateway sends it. */
  when: string;
  /** When this error can end the connection: the close code and when. */
  closes?: { code: number; when: string };
}

/** A fixed text, or a function of the message's specifics with the text docs/protocol.md shows. */
export type ErrorEntry =
  | (EntryBase & { text: string; docText?: undefined })
  | (EntryBase & { text: (...args: never) => string; docText: string });

/** `a sessionId`, `an entityType` (`u` as in userId takes `a`). */
const withArticle = (word: string): string => `${/^[aeio]/i.test(word) ? 'an' : 'a'} ${word}`;

export const ERRORS = {
  INVALID_JSON: {
    text: 'Message is not valid JSON',
    when: 'A text frame that does not parse as JSON. The connection stays open.',
  },
  INVALID_MESSAGE: {
    text: (issue?: FieldIssue): string =>
      issue ? `${issue.type} needs ${withArticle(issue.field)} (${issue.expected})` : 'Message must be a JSON object',
    docText: '`<type> needs a <field> (<what it must be>)`, e.g. `subscribe needs an entityId (a non-negative integer, or 1-64 letters, digits or _ . : -)`; for JSON that is not an object: `Message must be a JSON object`',
    when: 'A frame that is JSON but not an object, or a known type with a field missing or of the wrong kind.',
  },
  INVALID_USER_ID: {
    text: 'update_user_info needs a userId that is an integer (a number or a string of digits)',
    when: '`update_user_info` with a `userId` that is not an integer.',
  },
  INVALID_SESSION_ID: {
    text: TEXTS.invalidSessionId,
    when: '`update_session` with a `sessionId` that is not 1-128 of `A-Z a-z 0-9 , - _ .` (text of the original server).',
  },
  NO_SESSION: {
    text: 'This connection has no session: connect with the session cookie or send update_session first',
    when: '`session_message` from a connection without a session. (`session_id_required` on connect carries the same code with its own text.)',
  },
  ROOM_ACCESS_DENIED: {
    text: TEXTS.roomAccessDenied,
    when: '`room_message` to a room the connection is not a member of (text of the original server).',
  },
  RATE_LIMITED: {
    text: 'Too many messages: slow down (messages sent meanwhile are dropped)',
    when: 'A connection sending faster than `WSS_RATE_LIMIT` per second beyond `WSS_RATE_BURST`; at most one per second.',
    closes: { code: CLOSE_CODES.POLICY_VIOLATION, when: 'after `WSS_RATE_CLOSE_AFTER` rate-limited messages within 10 s (reason `Rate limit exceeded`)' },
  },
  BROADCAST_DISABLED: {
    text: 'This server does not relay broadcasts of this type from clients',
    when: '`chat`, `notification` or an unknown type that `WSS_CLIENT_BROADCAST` does not allow.',
  },
  INTERNAL_ERROR: {
    text: 'The server could not process this message',
    when: 'A handler failed unexpectedly; the details are in the server log.',
  },
  FORBIDDEN_TYPE: {
    text: (type: string): string => `Clients may not send messages of type ${JSON.stringify(type.slice(0, 64))}`,
    docText: '`Clients may not send messages of type "<type>"`, e.g. `… of type "server_ping"`',
    when: 'A client frame whose `type` only the server sends (greetings, confirmations, pings, pushes; the list is `SERVER_ONLY_TYPES` in `src/protocol/message-types.ts`, and every `*_confirmation`). Relayed to nobody.',
  },
  TOO_MANY_ROOMS: {
    text: (max: number): string => `A connection may subscribe to at most ${max} rooms; unsubscribe from one first`,
    docText: '`A connection may subscribe to at most <WSS_MAX_ROOMS_PER_CONNECTION> rooms; unsubscribe from one first`',
    when: '`subscribe` to a new entity room beyond `WSS_MAX_ROOMS_PER_CONNECTION` (the session room and user rooms do not count).',
  },
  INVALID_TOKEN: {
    text: (reason: string): string => `Identity token refused: ${reason}`,
    docText: '`Identity token refused: <reason>`, e.g. `Identity token refused: token was issued for another session`',
    when: 'A signed identity token (`token` in `update_session`, or `?token=` on the upgrade URL) that is forged, expired, malformed or issued for another session. The connection goes on without that identity.',
  },
  IDENTITY_MISMATCH: {
    text: (claim: string): string => `${claim}: ${TEXTS.identityMismatch}`,
    docText: '`<claim>: does not match the verified identity of this session; the claim was refused`, e.g. `ssn: …`',
    when: 'A claimed `ssn`, `accountId` (`update_session`) or `userId` (`update_user_info`) that contradicts the identity the gateway verified.',
  },
  UNSUPPORTED_TYPE: {
    text: (type: string): string => `Message type '${type.slice(0, 64)}' is not supported by this server`,
    docText: "`Message type '<type>' is not supported by this server`",
    when: 'A request PorticoEstate\'s NestJS gateway served that this gateway does not (`get_delivered_applications`, `get_application_detail`, `get_free_time`, `create_simple_application`, `delete_partial_application`, `add_application_comment`). Relayed to nobody.',
  },
  SUBSCRIBE_DENIED: {
    text: TEXTS.subscribeDenied,
    when: '`subscribe` to an entity type guarded by `WSS_SUBSCRIBE_AUTH_TYPES` that PorticoEstate (`WSS_SUBSCRIBE_AUTH_URL`) did not allow for this session.',
  },
} satisfies Record<ErrorCode, ErrorEntry>;

type Texts = typeof ERRORS;

/** The arguments the text of `code` needs (none for fixed texts). */
export type ErrorTextArgs<C extends ErrorCode> = Texts[C]['text'] extends (...args: infer A) => string ? A : [];

/** The text sent with `code`. */
export function errorText<C extends ErrorCode>(code: C, ...args: ErrorTextArgs<C>): string {
  const text: ErrorEntry['text'] = ERRORS[code].text;
  return typeof text === 'function' ? (text as (...a: unknown[]) => string)(...args) : text;
}

/** Close codes the gateway uses and when (docs/protocol.md). */
export const CLOSE_REASONS: Record<(typeof CLOSE_CODES)[keyof typeof CLOSE_CODES], string> = {
  [CLOSE_CODES.NORMAL]: 'Normal close (the client closed, or the gateway ended the connection without a specific reason).',
  [CLOSE_CODES.GOING_AWAY]: 'The gateway is shutting down (reason `Server shutting down`); reconnect, to another instance if there is one.',
  [CLOSE_CODES.POLICY_VIOLATION]: 'Too many rate-limited messages (reason `Rate limit exceeded`).',
  [CLOSE_CODES.MESSAGE_TOO_BIG]: 'A frame larger than `WSS_MAX_MESSAGE_BYTES`.',
  [CLOSE_CODES.SERVICE_RESTART]: 'The instance is drained for a restart from the admin view (reason `Service restart: reconnect`); reconnect, to another instance.',
  [CLOSE_CODES.TRY_AGAIN_LATER]: 'Reserved for "cannot serve this connection now, reconnect later"; not sent by this version.',
};
