/** The resolver the configuration asks for: token (with the HTTP callback or nothing behind it), HTTP callback, or none. */
import type { CallbackOutcome } from '../auth/http-callback.js';
import type { AuthConfig } from '../config/index.js';
import type { Logger } from '../log.js';
import { HttpIdentityResolver } from './http.js';
import { NoIdentityResolver } from './none.js';
import type { IdentityResolver } from './resolver.js';
import { TokenIdentityResolver } from './token.js';

export function createIdentityResolver(auth: AuthConfig, log: Logger, onOutcome?: (outcome: CallbackOutcome) => void): IdentityResolver {
  const http = auth.url === undefined ? null : new HttpIdentityResolver({
    url: auth.url, fields: auth.identities, timeoutMs: auth.timeoutMs, cacheMs: auth.cacheMs, probeIntervalMs: auth.retryMs, log, onOutcome,
  });
  const base = http ?? new NoIdentityResolver();
  return auth.secret === undefined ? base : new TokenIdentityResolver(auth.secret, base);
}
