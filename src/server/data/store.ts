/**
 * The data seam: looking up a session's partial booking applications. The PostgreSQL
 * implementation reads PorticoEstate's tables; the disabled one answers "Database not connected".
 */

export type StoreStatus = 'disabled' | 'connected' | 'disconnected';

/** Thrown when no database is configured or it cannot be reached; the reply says "Database not connected". */
export class DatabaseUnavailableError extends Error {
  constructor(message = 'database not connected', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatabaseUnavailableError';
  }
}

export interface PartialApplicationsStore {
  readonly status: StoreStatus;
  /** Applications with status NEWPARTIAL1 for exactly this session id, with their child arrays. */
  findPartialApplications(sessionId: string): Promise<unknown[]>;
  close(): Promise<void>;
}

export class DisabledStore implements PartialApplicationsStore {
  readonly status = 'disabled' as const;
  async findPartialApplications(): Promise<unknown[]> {
    throw new DatabaseUnavailableError();
  }
  async close(): Promise<void> {}
}
