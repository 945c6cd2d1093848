/**
 * WSS_AUTH_URL: PorticoEstate says who a session belongs to. The gateway GETs the URL (e.g.
 * `https://portico.example/bookingfrontend/user`) with the session cookie; a 2xx JSON answer
 * names the user, mapped to identities by WSS_AUTH_IDENTITIES (`bb_user:ssn` takes the answer's
 * `ssn` field as the `bb_user` identity); any other answer (401 when not logged in) is anonymous.
 */
import { HttpCallback, sessionCookie, type CallbackAnswer, type CallbackOutcome, type CallbackState } from '../auth/http-callback.js';
import type { IdentityFieldConfig } from '../config/index.js';
import type { Logger } from '../log.js';
import { NO_IDENTITIES, type Identities, type IdentityOutcome, type IdentityRequest, type IdentityResolver } from './resolver.js';

/** One WSS_AUTH_IDENTITIES entry: the user type and the (dot-separated) answer field holding its identifier. */
export type IdentityField = IdentityFieldConfig;

export interface HttpIdentityOptions {
  url: string;
  fields: readonly IdentityField[];
  timeoutMs: number;
  cacheMs: number;
  /** While the endpoint is down, one request per this many ms tries it again. */
  probeIntervalMs: number;
  log: Logger;
  onOutcome?: (outcome: CallbackOutcome) => void;
}

const MAX_IDENTIFIER_LENGTH = 256;
/** On update_session a cached "anonymous" older than this is asked again (a login may have happened). */
export const RECHECK_ANONYMOUS_MS = 1000;

export class HttpIdentityResolver implements IdentityResolver {
  readonly mode = 'http';
  private readonly callback: HttpCallback<Identities>;

  constructor(private readonly opts: HttpIdentityOptions) {
    this.callback = new HttpCallback<Identities>({
      name: 'identity', timeoutMs: opts.timeoutMs, cacheMs: opts.cacheMs, probeIntervalMs: opts.probeIntervalMs, log: opts.log,
      interpret: (answer) => identitiesFrom(answer, opts.fields),
      isNo: (identities) => Object.keys(identities).length === 0,
      onOutcome: opts.onOutcome,
    });
  }

  get state(): CallbackState {
    return this.callback.state;
  }

  async resolve(request: IdentityRequest): Promise<IdentityOutcome> {
    if (request.sessionId === null) return { kind: 'anonymous' };
    const key = `${request.cookieName}=${request.sessionId}`;
    const result = await this.callback.ask(this.opts.url, sessionCookie(request.cookieName, request.sessionId), key, request.fresh ? RECHECK_ANONYMOUS_MS : undefined);
    if (!result.answered) return { kind: 'unavailable' };
    return Object.keys(result.value).length === 0 ? { kind: 'anonymous' } : { kind: 'resolved', identities: result.value };
  }
}

/** The identities a 2xx answer names; anything else names none. */
export function identitiesFrom(answer: CallbackAnswer, fields: readonly IdentityField[]): Identities {
  if (answer.status < 200 || answer.status >= 300) return NO_IDENTITIES;
  const identities: Record<string, string> = {};
  for (const { userType, field } of fields) {
    const value = identifierText(pick(answer.body, field));
    if (value !== null) identities[userType] = value;
  }
  return Object.freeze(identities);
}

function pick(body: unknown, path: string): unknown {
  let value = body;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** A usable identifier: a non-empty string or a whole number (account ids); null, 0 and "" are "none". */
export function identifierText(value: unknown): string | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? String(value) : null;
  if (typeof value !== 'string') return null;
  const text = value.trim();
  return text !== '' && text.length <= MAX_IDENTIFIER_LENGTH ? text : null;
}
