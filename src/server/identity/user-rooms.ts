/**
 * User room ids: `user_` + the first 128 bits of HMAC-SHA256(key, userType + "\n" + identifier),
 * hex. The identifier (a national identity number, an account id) never appears in a room id,
 * in logs, metrics or between instances, and — unlike a plain hash — cannot be recovered by
 * hashing every possible SSN without the key.
 *
 * Every instance must use the same key, or a message routed by room id over the bus misses the
 * connections of other instances. The key comes from WSS_USER_ROOM_KEY; else it is derived from
 * WSS_AUTH_SECRET (already shared by all instances); else a random key per process, which is
 * right for a single instance only (the configuration refuses that combination with Redis).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { USER_ROOM_PREFIX } from '../../protocol/room-ids.js';

export type UserRoomKeySource = 'WSS_USER_ROOM_KEY' | 'WSS_AUTH_SECRET' | 'random';

/** Label mixed into the derivation so the room key is never the token-signing key itself. */
const DERIVATION_LABEL = 'portico-ws user-room key v1';

export class UserRoomIds {
  private constructor(private readonly key: Buffer, readonly source: UserRoomKeySource) {}

  /** The key from the configured secrets, in the order above. */
  static fromSecrets(userRoomKey: string | undefined, authSecret: string | undefined): UserRoomIds {
    if (userRoomKey !== undefined) return new UserRoomIds(Buffer.from(userRoomKey, 'utf8'), 'WSS_USER_ROOM_KEY');
    if (authSecret !== undefined) return new UserRoomIds(createHmac('sha256', authSecret).update(DERIVATION_LABEL).digest(), 'WSS_AUTH_SECRET');
    return new UserRoomIds(randomBytes(32), 'random');
  }

  roomId(userType: string, identifier: string): string {
    const mac = createHmac('sha256', this.key).update(`${userType}\n${identifier}`).digest('hex');
    return USER_ROOM_PREFIX + mac.slice(0, 32);
  }
}
