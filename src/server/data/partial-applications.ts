/**
 * Turns store look-ups into protocol replies: fixed error messages for clients (details go to
 * the log), and one look-up in flight per key (concurrent requests share its result).
 */
import { TEXTS } from '../../protocol/constants.js';
import { maskSessionId } from '../../protocol/room-ids.js';
import type { PartialApplicationsData } from '../../protocol/types.js';
import type { Logger } from '../log.js';
import { now } from '../messages.js';
import { DatabaseUnavailableError, type PartialApplicationsStore } from './store.js';

export class PartialApplicationsService {
  private readonly inFlight = new Map<string, Promise<PartialApplicationsData>>();

  constructor(private readonly store: PartialApplicationsStore, private readonly log: Logger) {}

  /**
   * Look up a session's applications. `key` scopes coalescing: a connection id for client
   * requests (at most one in flight per connection), the session id for server pushes.
   */
  lookup(sessionId: string | null, key: string): Promise<PartialApplicationsData> {
    if (!sessionId) return Promise.resolve({ error: true, status: 'error', message: TEXTS.noSession });
    const flightKey = `${key}\u0000${sessionId}`;
    const pending = this.inFlight.get(flightKey);
    if (pending) return pending;
    const promise = this.run(sessionId).finally(() => this.inFlight.delete(flightKey));
    this.inFlight.set(flightKey, promise);
    return promise;
  }

  /** The same data shaped as a server push. */
  async push(sessionId: string): Promise<PartialApplicationsData> {
    const data = await this.lookup(sessionId, 'push');
    return { ...data, source: 'server_push', timestamp: now() };
  }

  private async run(sessionId: string): Promise<PartialApplicationsData> {
    try {
      const applications = await this.store.findPartialApplications(sessionId);
      return { error: false, status: 'success', applications, count: applications.length, sessionId: maskSessionId(sessionId)! };
    } catch (err) {
      if (err instanceof DatabaseUnavailableError) {
        // Expected (no database configured, or it is down): the store logs its state changes
        // once; a line per request would let one client fill the log.
        this.log.debug({ session: maskSessionId(sessionId) }, 'partial applications: database not connected');
        return { error: true, status: 'error', message: TEXTS.databaseNotConnected };
      }
      this.log.warn({ err, session: maskSessionId(sessionId) }, 'partial applications look-up failed');
      return { error: true, status: 'error', message: TEXTS.lookupFailed };
    }
  }
}
