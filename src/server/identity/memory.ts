/**
 * In-process resolver: identities registered per session id by the embedding code (tests, a
 * host application that already knows its users). Same contract as the HTTP and token resolvers.
 */
import type { Identities, IdentityOutcome, IdentityRequest, IdentityResolver } from './resolver.js';

export class MemoryIdentityResolver implements IdentityResolver {
  readonly mode = 'memory';
  readonly state = 'up';
  private readonly sessions = new Map<string, Identities>();

  /** Make `sessionId` resolve to `identities` (an empty object makes it anonymous again). */
  set(sessionId: string, identities: Identities): void {
    if (Object.keys(identities).length === 0) this.sessions.delete(sessionId);
    else this.sessions.set(sessionId, Object.freeze({ ...identities }));
  }

  resolve(request: IdentityRequest): Promise<IdentityOutcome> {
    const identities = request.sessionId === null ? undefined : this.sessions.get(request.sessionId);
    return Promise.resolve(identities ? { kind: 'resolved', identities } : { kind: 'anonymous' });
  }
}
