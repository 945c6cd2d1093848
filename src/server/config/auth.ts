/**
 * WSS_AUTH_* and WSS_SUBSCRIBE_AUTH_*: who a connection is (identity) and which entity rooms it
 * may join (authorization). Everything is off by default: no identities, entity rooms open.
 */
import { ConfigError } from './parse.js';
import type { ConfigReader } from './reader.js';

export interface IdentityFieldConfig { userType: string; field: string }

export interface AuthConfig {
  /** GET with the session cookie; a 2xx JSON answer names the user (PorticoEstate: /bookingfrontend/user). */
  url: string | undefined;
  /** Which answer field holds which user type's identifier. */
  identities: IdentityFieldConfig[];
  /** HS256 secret of identity tokens minted by PHP; never logged. */
  secret: string | undefined;
  timeoutMs: number;
  /** Answers (positive and negative) are reused this long per session (and room). */
  cacheMs: number;
  /** Connections left anonymous because the endpoint was down are asked again this often. */
  retryMs: number;
  /** HMAC key of user room ids; shared by every instance. */
  userRoomKey: string | undefined;
  /** Entity-room authorization URL with `{entityType}` and `{entityId}`. */
  subscribeUrl: string | undefined;
  /** Entity types whose `subscribe` is checked; `*` = all; empty = none (open). */
  subscribeTypes: string[];
}

const USER_TYPE = /^[A-Za-z0-9_.-]{1,64}$/;
const FIELD = /^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64}){0,4}$/;
const ENTITY_TYPE = /^([A-Za-z0-9_.:-]{1,64}|\*)$/;
const MIN_SECRET_CHARS = 32;
const HOUR = 3_600_000;

export function readAuth(r: ConfigReader): AuthConfig {
  const url = r.optional('WSS_AUTH_URL', "Identity callback: GET with the client's session cookie, a 2xx JSON answer names the user (e.g. https://portico.example/bookingfrontend/user); unset: no HTTP identity");
  const identitiesText = r.string('WSS_AUTH_IDENTITIES', 'bb_user:ssn,phpgw_accounts:account_id', 'User types and the WSS_AUTH_URL answer field holding each identifier (userType:field, comma-separated; dots reach into nested objects)');
  const secret = r.optional('WSS_AUTH_SECRET', `HS256 secret (at least ${MIN_SECRET_CHARS} characters) of identity tokens minted by PHP (deploy/php/), presented as ?token= or update_session.token; never logged`);
  const auth: AuthConfig = {
    url,
    identities: parseIdentities(identitiesText),
    secret,
    timeoutMs: r.int('WSS_AUTH_TIMEOUT_MS', 2000, 50, 60_000, 'A WSS_AUTH_URL or WSS_SUBSCRIBE_AUTH_URL request taking longer counts as the endpoint being down'),
    cacheMs: r.int('WSS_AUTH_CACHE_MS', 60_000, 0, 24 * HOUR, 'How long an answer of WSS_AUTH_URL (per session) or WSS_SUBSCRIBE_AUTH_URL (per session and room) is reused, allowed or not (0 = ask every time)'),
    retryMs: r.int('WSS_AUTH_RETRY_MS', 5000, 100, HOUR, 'While WSS_AUTH_URL or WSS_SUBSCRIBE_AUTH_URL is down, one request per this interval tries it (others are answered at once as anonymous / not allowed), and connections left anonymous are asked about again this often'),
    userRoomKey: r.optional('WSS_USER_ROOM_KEY', `Key of the HMAC that makes user room ids (at least ${MIN_SECRET_CHARS} characters, the same on every instance); unset: derived from WSS_AUTH_SECRET, else random per process (single instance only)`),
    subscribeUrl: r.optional('WSS_SUBSCRIBE_AUTH_URL', "Entity-room authorization: GET with the client's session cookie, {entityType} and {entityId} filled in; 2xx allows the subscribe"),
    subscribeTypes: r.list('WSS_SUBSCRIBE_AUTH_TYPES', 'Entity types whose subscribe WSS_SUBSCRIBE_AUTH_URL must allow (comma-separated, * = all); empty: entity rooms are open'),
  };
  if (url !== undefined) requireHttpUrl('WSS_AUTH_URL', url);
  if (secret !== undefined && secret.length < MIN_SECRET_CHARS) throw new ConfigError('WSS_AUTH_SECRET', `must be at least ${MIN_SECRET_CHARS} characters (got ${secret.length})`);
  if (auth.userRoomKey !== undefined && auth.userRoomKey.length < MIN_SECRET_CHARS) {
    throw new ConfigError('WSS_USER_ROOM_KEY', `must be at least ${MIN_SECRET_CHARS} characters (got ${auth.userRoomKey.length})`);
  }
  if (auth.subscribeUrl !== undefined) {
    requireHttpUrl('WSS_SUBSCRIBE_AUTH_URL', auth.subscribeUrl);
    if (!auth.subscribeUrl.includes('{entityId}')) throw new ConfigError('WSS_SUBSCRIBE_AUTH_URL', 'must contain {entityId} (and usually {entityType})');
    if (auth.subscribeTypes.length === 0) throw new ConfigError('WSS_SUBSCRIBE_AUTH_TYPES', 'must name the entity types to check (or *) when WSS_SUBSCRIBE_AUTH_URL is set');
  } else if (auth.subscribeTypes.length > 0) {
    throw new ConfigError('WSS_SUBSCRIBE_AUTH_URL', 'must be set when WSS_SUBSCRIBE_AUTH_TYPES is');
  }
  const badType = auth.subscribeTypes.find((t) => !ENTITY_TYPE.test(t));
  if (badType !== undefined) throw new ConfigError('WSS_SUBSCRIBE_AUTH_TYPES', `has an invalid entity type "${badType}"`);
  return auth;
}

/** True when some identity source is configured (user rooms can have members). */
export function identityEnabled(auth: AuthConfig): boolean {
  return auth.url !== undefined || auth.secret !== undefined;
}

/**
 * Instances sharing Redis route user-targeted messages by room id, so they must share the room
 * key: a random per-process key would silently miss every other instance's connections.
 */
export function checkUserRoomKey(auth: AuthConfig, clustered: boolean): void {
  if (clustered && identityEnabled(auth) && auth.userRoomKey === undefined && auth.secret === undefined) {
    throw new ConfigError('WSS_USER_ROOM_KEY', 'must be set (the same value on every instance) when WSS_AUTH_URL is used with Redis');
  }
}

function parseIdentities(text: string): IdentityFieldConfig[] {
  const fields = text.split(',').map((s) => s.trim()).filter(Boolean).map((pair) => {
    const [userType, field, extra] = pair.split(':').map((s) => s.trim());
    if (extra !== undefined || !userType || !field || !USER_TYPE.test(userType) || !FIELD.test(field)) {
      throw new ConfigError('WSS_AUTH_IDENTITIES', `entries must be userType:field, got "${pair}"`);
    }
    return { userType, field };
  });
  if (fields.length === 0) throw new ConfigError('WSS_AUTH_IDENTITIES', 'must name at least one userType:field');
  return fields;
}

function requireHttpUrl(name: string, value: string): void {
  let parsed: URL;
  try {
    parsed = new URL(value.replaceAll('{entityType}', 'x').replaceAll('{entityId}', '1'));
  } catch {
    throw new ConfigError(name, `must be an http:// or https:// URL, got "${value}"`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ConfigError(name, `must be an http:// or https:// URL, got "${value}"`);
}
