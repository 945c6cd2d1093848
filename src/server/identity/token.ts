/**
 * WSS_AUTH_SECRET: PHP mints an HS256 JWT `{"sid":…, "identities":{"bb_user":"<ssn>"}, "exp":…}`
 * (deploy/php/portico-ws-token.php) and the page hands it to the client, which presents it as
 * `?token=` on the upgrade URL or `token` in `update_session`. Verified with `jose`.
 *
 * `sid` binds the token to one session: it must equal the connection's session id (from its
 * cookie, or the `sessionId` of the same `update_session`). A connection that has no session yet
 * (no cookie, e.g. a gateway on another origin) takes `sid` as its session. So a token copied
 * out of one page cannot lend its identity to a connection of another session.
 * Requests without a token go to the fallback (the HTTP callback when WSS_AUTH_URL is set too).
 */
import { errors, jwtVerify } from 'jose';
import type { CallbackState } from '../auth/http-callback.js';
import { SESSION_ID_PATTERN } from '../../protocol/validate.js';
import { identifierText } from './http.js';
import type { Identities, IdentityOutcome, IdentityRequest, IdentityResolver } from './resolver.js';

const USER_TYPE_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
const MAX_IDENTITIES = 8;
/** Allowed clock difference between the PHP host and the gateway. */
const CLOCK_TOLERANCE_S = 5;

export class TokenIdentityResolver implements IdentityResolver {
  readonly mode = 'token';
  private readonly key: Uint8Array;

  constructor(secret: string, private readonly fallback: IdentityResolver) {
    this.key = new TextEncoder().encode(secret);
  }

  get state(): CallbackState {
    return this.fallback.state;
  }

  async resolve(request: IdentityRequest): Promise<IdentityOutcome> {
    if (request.token === undefined) return this.fallback.resolve(request);
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(request.token, this.key, { algorithms: ['HS256'], requiredClaims: ['sid', 'exp'], clockTolerance: CLOCK_TOLERANCE_S }));
    } catch (err) {
      return { kind: 'invalid_token', reason: reasonOf(err) };
    }
    const sid = payload.sid;
    if (typeof sid !== 'string' || !SESSION_ID_PATTERN.test(sid)) return { kind: 'invalid_token', reason: 'sid is not a session id' };
    if (request.sessionId !== null && request.sessionId !== sid) return { kind: 'invalid_token', reason: 'token was issued for another session' };
    const identities = tokenIdentities(payload.identities);
    if (identities === null) return { kind: 'invalid_token', reason: 'identities must be an object of user type to identifier' };
    return { kind: 'resolved', identities, sessionId: sid };
  }
}

function tokenIdentities(value: unknown): Identities | null {
  if (value === undefined) return Object.freeze({});
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_IDENTITIES) return null;
  const identities: Record<string, string> = {};
  for (const [userType, raw] of entries) {
    const identifier = identifierText(raw);
    if (!USER_TYPE_PATTERN.test(userType) || identifier === null) return null;
    identities[userType] = identifier;
  }
  return Object.freeze(identities);
}

function reasonOf(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'token has expired';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'signature does not verify';
  if (err instanceof errors.JWTClaimValidationFailed) return `claim ${err.claim} is missing or invalid`;
  if (err instanceof errors.JOSEAlgNotAllowed) return 'only HS256 tokens are accepted';
  return 'token is malformed';
}
