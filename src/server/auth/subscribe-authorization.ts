/**
 * Entity-room authorization (WSS_SUBSCRIBE_AUTH_URL, WSS_SUBSCRIBE_AUTH_TYPES): before a
 * connection joins an entity room of a checked type, PorticoEstate is asked with the
 * connection's session cookie whether that session may see the entity; 2xx allows it. Answers
 * are cached per session and room. Without a session, or while the endpoint is down, the answer
 * is no (fail closed). Types not listed stay open, as the original server had them.
 */
import { entityRoomId } from '../../protocol/room-ids.js';
import type { AuthConfig } from '../config/index.js';
import type { Connection } from '../connection.js';
import type { Logger } from '../log.js';
import { sessionCookieName } from '../session.js';
import { HttpCallback, sessionCookie, type CallbackOutcome, type CallbackState } from './http-callback.js';

export type SubscribeVerdict = 'allowed' | 'denied' | 'unavailable';

export class SubscribeAuthorization {
  private readonly callback: HttpCallback<{ allowed: boolean }> | null;
  private readonly allTypes: boolean;
  private readonly types: ReadonlySet<string>;

  constructor(private readonly config: AuthConfig, log: Logger, onOutcome?: (outcome: CallbackOutcome) => void) {
    this.allTypes = config.subscribeTypes.includes('*');
    this.types = new Set(config.subscribeTypes);
    this.callback = config.subscribeUrl === undefined ? null : new HttpCallback({
      name: 'subscribe-auth', timeoutMs: config.timeoutMs, cacheMs: config.cacheMs, probeIntervalMs: config.retryMs, log, expectJson: false,
      interpret: (answer) => ({ allowed: answer.status >= 200 && answer.status < 300 }),
      isNo: (verdict) => !verdict.allowed,
      onOutcome,
    });
  }

  /** `off` when no type is checked, else the endpoint's state. */
  get state(): CallbackState | 'off' {
    return this.callback?.state ?? 'off';
  }

  /** Whether `subscribe` to this entity type needs PorticoEstate's yes. */
  checks(entityType: string): boolean {
    return this.callback !== null && (this.allTypes || this.types.has(entityType));
  }

  async authorize(conn: Connection, entityType: string, entityId: string | number): Promise<SubscribeVerdict> {
    if (!this.checks(entityType)) return 'allowed';
    if (conn.sessionId === null) return 'denied';
    const cookieName = sessionCookieName(conn.sessionType);
    const url = this.config.subscribeUrl!
      .replaceAll('{entityType}', encodeURIComponent(entityType))
      .replaceAll('{entityId}', encodeURIComponent(String(entityId)));
    const key = `${cookieName}=${conn.sessionId}\n${entityRoomId(entityType, entityId)}`;
    const result = await this.callback!.ask(url, sessionCookie(cookieName, conn.sessionId), key);
    if (!result.answered) return 'unavailable';
    return result.value.allowed ? 'allowed' : 'denied';
  }
}
