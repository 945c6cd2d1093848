/**
 * Publishes channel payloads by the first path that works: Redis (if configured) → the HTTP
 * publish endpoint (if configured) → a spool file (if a spool folder is configured, which it is
 * by default). Each call resolves with the path that took it; for Redis also how many subscribers
 * received it (0: no gateway was listening, nothing will be delivered).
 */
import os from 'node:os';
import type { RedisOptions } from 'ioredis';
import type { JsonObject } from '../protocol/types.js';
import { HttpPath } from './http-path.js';
import {
  entityEventPayload, entityNotificationPayload, notificationPayload, partialApplicationsUpdatePayload,
  roomMessagePayload, sessionMessagePayload, userRoomPayload, type ChannelMessage, type EntityAction,
} from './payloads.js';
import { RedisPath } from './redis-path.js';
import { SpoolPath } from './spool-path.js';

export type PublishPath = 'redis' | 'http' | 'spool';

export interface PublishResult {
  path: PublishPath;
  /** Redis only: subscribers that received the message (0 means no gateway is listening). */
  receivers?: number;
  /** Spool only: the file written. */
  file?: string;
  /** Paths tried before this one, and why each failed. */
  fallbacks: Array<{ path: PublishPath; error: string }>;
}

export interface PublisherOptions {
  /** Redis URL or ioredis options. Unset: Redis is skipped. */
  redis?: string | RedisOptions;
  /** The gateway's publish endpoint and token. Unset: HTTP is skipped. */
  http?: { url: string; token: string };
  /** Spool folder (the gateway's WSS_SPOOL_DIR); `false` disables the fallback. Default: the OS temp folder. */
  spoolDir?: string | false;
  /** Per-path timeout for Redis and HTTP, ms. Default 2000. */
  timeoutMs?: number;
}

/** Every path failed; `attempts` says why each one did. */
export class PublishError extends Error {
  constructor(readonly attempts: Array<{ path: PublishPath; error: string }>) {
    super(attempts.length === 0
      ? 'portico-ws publisher: no delivery path configured (set redis, http or spoolDir)'
      : `portico-ws publisher: every path failed: ${attempts.map((a) => `${a.path}: ${a.error}`).join('; ')}`);
    this.name = 'PublishError';
  }
}

export class Publisher {
  private readonly redis: RedisPath | null;
  private readonly http: HttpPath | null;
  private readonly spool: SpoolPath | null;

  constructor(options: PublisherOptions = {}) {
    const timeoutMs = options.timeoutMs ?? 2000;
    this.redis = options.redis ? new RedisPath({ connection: options.redis, timeoutMs }) : null;
    this.http = options.http ? new HttpPath({ ...options.http, timeoutMs }) : null;
    const spoolDir = options.spoolDir === undefined ? os.tmpdir() : options.spoolDir;
    this.spool = spoolDir ? new SpoolPath(spoolDir) : null;
  }

  /** Publish a payload built by one of the payload functions. */
  async publish(message: ChannelMessage): Promise<PublishResult> {
    const { channel, payload } = message;
    const fallbacks: PublishResult['fallbacks'] = [];
    if (this.redis) {
      try {
        const receivers = await this.redis.publish(channel, JSON.stringify(payload));
        return { path: 'redis', receivers, fallbacks };
      } catch (err) {
        fallbacks.push({ path: 'redis', error: (err as Error).message });
      }
    }
    if (this.http) {
      try {
        await this.http.publish(channel, payload);
        return { path: 'http', fallbacks };
      } catch (err) {
        fallbacks.push({ path: 'http', error: (err as Error).message });
      }
    }
    if (this.spool) {
      try {
        const file = await this.spool.publish(channel, payload);
        return { path: 'spool', file, fallbacks };
      } catch (err) {
        fallbacks.push({ path: 'spool', error: (err as Error).message });
      }
    }
    throw new PublishError(fallbacks);
  }

  /** Broadcast `{type, message, data, timestamp}` to every connection (PHP: sendWebSocketNotification). */
  sendWebSocketNotification(message: string, data: JsonObject = {}, type = 'notification'): Promise<PublishResult> {
    return this.publish(notificationPayload(message, data, type));
  }

  /** Deliver `data` to every connection of one session (PHP: sendToSession). */
  sendToSession(sessionId: string, message: string, data: JsonObject = {}): Promise<PublishResult> {
    return this.publish(sessionMessagePayload(sessionId, message, data));
  }

  /** Deliver `{type:"room_message", roomId, ...fields}` unchanged to the members of a room. */
  sendRoomMessage(roomId: string, fields: JsonObject = {}): Promise<PublishResult> {
    return this.publish(roomMessagePayload(roomId, fields));
  }

  /** Notify the subscribers of an entity (PHP: sendEntityNotification). */
  sendEntityNotification(entityType: string, entityId: string | number, message: string, action: EntityAction, data: JsonObject = {}): Promise<PublishResult> {
    return this.publish(entityNotificationPayload(entityType, entityId, message, action, data));
  }

  /** Send an `entity_event` to an entity room (PHP: sendEntityEvent). */
  sendEntityEvent(entityType: string, entityId: string | number, eventType: string, data: JsonObject = {}): Promise<PublishResult> {
    return this.publish(entityEventPayload(entityType, entityId, eventType, data));
  }

  /** Deliver `payload` to the connections of one verified user on every gateway (PHP: sendToUserRoom). */
  sendToUserRoom(userType: string, identifier: string | number, payload: JsonObject = {}): Promise<PublishResult> {
    return this.publish(userRoomPayload(userType, identifier, payload));
  }

  /** Make the gateway push a session's partial applications (PHP: triggerPartialApplicationsUpdate). */
  triggerPartialApplicationsUpdate(sessionId: string): Promise<PublishResult> {
    return this.publish(partialApplicationsUpdatePayload(sessionId));
  }

  /** Close the Redis connection, if one was opened. */
  close(): Promise<void> {
    return this.redis?.close() ?? Promise.resolve();
  }
}

export function createPublisher(options: PublisherOptions = {}): Publisher {
  return new Publisher(options);
}
