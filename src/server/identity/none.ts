/** The default resolver: no identity is configured, so every connection is anonymous and user rooms stay empty. */
import type { IdentityOutcome, IdentityResolver } from './resolver.js';

export class NoIdentityResolver implements IdentityResolver {
  readonly mode = 'none';
  readonly state = 'up';

  resolve(): Promise<IdentityOutcome> {
    return Promise.resolve({ kind: 'anonymous' });
  }
}
