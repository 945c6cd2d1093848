/**
 * Who is on the other end of a connection, as something the client cannot forge says: the
 * `IdentityResolver` seam. Consulted at the upgrade and on every `update_session`; the gateway
 * joins a connection to `user` rooms only for the identities an answer names.
 *
 * Implementations (one file each): `none.ts` (default: nobody has an identity), `http.ts`
 * (WSS_AUTH_URL: PorticoEstate says who the session belongs to), `token.ts` (WSS_AUTH_SECRET: a
 * JWT minted by PHP), `memory.ts` (in-process, for tests and embedding).
 */
import type { CallbackState } from '../auth/http-callback.js';
import type { SessionCookieName } from '../session.js';

export type { SessionCookieName } from '../session.js';

/** User type → identifier, e.g. `{ bb_user: "01017012345", phpgw_accounts: "42" }`. */
export type Identities = Readonly<Record<string, string>>;

export const NO_IDENTITIES: Identities = Object.freeze({});

export interface IdentityRequest {
  /** The connection's session id (from its cookie, or `update_session`); null when it has none. */
  sessionId: string | null;
  /** The cookie the session id came in; `update_session` ids are sent as `bookingfrontendsession`. */
  cookieName: SessionCookieName;
  /** A signed token the client presented (`?token=` on the upgrade or `token` in update_session). */
  token?: string;
  /**
   * The client says its session changed (update_session), e.g. after logging in: a cached
   * "anonymous" for it is not trusted (a cached identity is).
   */
  fresh?: boolean;
}

export type IdentityOutcome =
  /** Verified. `sessionId`: the session the proof is bound to (a token's `sid`). */
  | { kind: 'resolved'; identities: Identities; sessionId?: string }
  /** A definite "not logged in" (or no proof offered). */
  | { kind: 'anonymous' }
  /** Could not be checked now (endpoint down): anonymous until a retry succeeds. */
  | { kind: 'unavailable' }
  /** The client presented a token that is forged, expired, malformed or for another session. */
  | { kind: 'invalid_token'; reason: string };

export type IdentityMode = 'none' | 'http' | 'token' | 'memory';

export interface IdentityResolver {
  readonly mode: IdentityMode;
  /** For /health: the HTTP callback's state; `up` when nothing remote is involved. */
  readonly state: CallbackState;
  resolve(request: IdentityRequest): Promise<IdentityOutcome>;
}

/** Identities as a stable list of [userType, identifier] pairs, for comparing and joining rooms. */
export function identityEntries(identities: Identities): Array<[string, string]> {
  return Object.entries(identities).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
