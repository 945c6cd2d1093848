/**
 * Applies what the identity resolver says to connections: joins exactly the `user` rooms of
 * the verified identities (leaving any others), checks client claims against them, and asks
 * again for connections left anonymous because the resolver could not be reached.
 */
import type { IncomingMessage } from 'node:http';
import { roomKind } from '../../protocol/room-ids.js';
import type { Connection } from '../connection.js';
import type { Logger } from '../log.js';
import type { RoomRegistry } from '../rooms.js';
import { sessionCookieName, sessionFromCookies, type SessionType } from '../session.js';
import {
  NO_IDENTITIES, identityEntries, type Identities, type IdentityOutcome, type IdentityRequest, type IdentityResolver,
} from './resolver.js';
import type { UserRoomIds } from './user-rooms.js';

/** Client fields PorticoEstate's pages send that name a user, and the user type each one claims. */
const CLAIMS: ReadonlyArray<[field: string, userType: string]> = [['ssn', 'bb_user'], ['accountId', 'phpgw_accounts'], ['userId', 'phpgw_accounts']];

export interface UpgradeIdentity {
  session: { sessionId: string; type: SessionType } | null;
  outcome: IdentityOutcome;
}

export class IdentityBinding {
  /** Latest resolution started per connection: an older one finishing later is ignored. */
  private readonly tickets = new WeakMap<Connection, number>();
  private readonly pending = new Set<Connection>();
  private retryTimer: NodeJS.Timeout | null = null;
  private retrying = false;
  private nextTicket = 1;

  constructor(
    readonly resolver: IdentityResolver,
    private readonly userRooms: UserRoomIds,
    private readonly rooms: RoomRegistry,
    private readonly log: Logger,
    private readonly retryMs: number,
  ) {}

  /** Resolve before the upgrade completes, so `connection_success` comes with the user rooms joined. */
  async forUpgrade(req: IncomingMessage): Promise<UpgradeIdentity> {
    const session = sessionFromCookies(req.headers.cookie);
    const token = tokenFromUrl(req.url);
    const outcome = await this.resolve({ sessionId: session?.sessionId ?? null, cookieName: sessionCookieName(session?.type ?? null), token });
    return { session, outcome };
  }

  /** For `update_session`: the new session id travels as `bookingfrontendsession`. Returns a ticket for `settle`. */
  async forSession(conn: Connection, sessionId: string, token: string | undefined): Promise<{ ticket: number; outcome: IdentityOutcome }> {
    const ticket = this.begin(conn);
    const outcome = await this.resolve({ sessionId, cookieName: 'bookingfrontendsession', token, fresh: true });
    return { ticket, outcome };
  }

  begin(conn: Connection): number {
    const ticket = this.nextTicket++;
    this.tickets.set(conn, ticket);
    return ticket;
  }

  /** False when a later resolution for `conn` has started (or it closed): its result must not be applied. */
  isCurrent(conn: Connection, ticket: number): boolean {
    return this.tickets.get(conn) === ticket && conn.isOpen;
  }

  /** Give `conn` the identities of `outcome` (none unless resolved) and their user rooms. */
  settle(conn: Connection, outcome: IdentityOutcome): void {
    const identities = outcome.kind === 'resolved' ? outcome.identities : NO_IDENTITIES;
    this.apply(conn, identities);
    if (outcome.kind === 'unavailable') this.markPending(conn);
    else this.pending.delete(conn);
  }

  /** The first claim in `msg` that names a different identifier than the verified one of its user type. */
  contradiction(identities: Identities, msg: Record<string, unknown>): string | null {
    for (const [field, userType] of CLAIMS) {
      const claimed = msg[field];
      const verified = identities[userType];
      if (claimed === undefined || claimed === null || claimed === '' || verified === undefined) continue;
      if (String(claimed).trim() !== verified) return field;
    }
    return null;
  }

  close(): void {
    if (this.retryTimer) clearInterval(this.retryTimer);
    this.retryTimer = null;
    this.pending.clear();
  }

  private async resolve(request: IdentityRequest): Promise<IdentityOutcome> {
    try {
      return await this.resolver.resolve(request);
    } catch (err) {
      this.log.error({ err }, 'identity resolver failed; connection stays anonymous');
      return { kind: 'unavailable' };
    }
  }

  private apply(conn: Connection, identities: Identities): void {
    conn.identities = identities;
    const wanted = new Set(identityEntries(identities).map(([userType, identifier]) => this.userRooms.roomId(userType, identifier)));
    for (const roomId of conn.roomIds()) {
      if (roomKind(roomId) === 'user' && !wanted.has(roomId)) this.rooms.leave(conn, roomId);
    }
    for (const roomId of wanted) if (!conn.inRoom(roomId)) this.rooms.join(conn, roomId);
  }

  private markPending(conn: Connection): void {
    this.pending.add(conn);
    this.retryTimer ??= setInterval(() => void this.retryPending(), this.retryMs).unref();
  }

  /** Ask again for every connection the resolver could not answer for; stop once none is left. */
  private async retryPending(): Promise<void> {
    if (this.retrying) return;
    this.retrying = true;
    try {
      await this.retryRound();
    } finally {
      this.retrying = false;
    }
    if (this.pending.size === 0 && this.retryTimer) {
      clearInterval(this.retryTimer);
      this.retryTimer = null;
    }
  }

  private async retryRound(): Promise<void> {
    for (const conn of [...this.pending]) {
      if (!conn.isOpen || conn.sessionId === null) {
        this.pending.delete(conn);
        continue;
      }
      const ticket = this.begin(conn);
      const outcome = await this.resolve({ sessionId: conn.sessionId, cookieName: sessionCookieName(conn.sessionType) });
      if (outcome.kind === 'unavailable') break; // still down: try the rest next round
      if (this.isCurrent(conn, ticket)) this.settle(conn, outcome);
      else this.pending.delete(conn);
    }
  }
}

/** `?token=` of the upgrade URL, if any. */
function tokenFromUrl(url: string | undefined): string | undefined {
  const query = url?.indexOf('?') ?? -1;
  if (query < 0) return undefined;
  const token = new URLSearchParams(url!.slice(query + 1)).get('token');
  return token ? token : undefined;
}
