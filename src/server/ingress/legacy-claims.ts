/**
 * Exactly-once history for messages every instance receives itself (PHP's PUBLISH on the legacy
 * channels), without electing anyone. Each instance counts how often it has seen each payload
 * (channel + text, hashed) within the claim window and offers the message as "the n-th
 * occurrence"; the publish script appends it only when Redis has seen fewer occurrences than n
 * (and then records n). So the first instance to offer each occurrence appends it, the others
 * skip it, two identical payloads in one second (PHP stamps `date('c')`) are two occurrences and
 * both arrive, and an instance dying loses nothing while any other is subscribed.
 * Redis pub/sub gives every subscriber the messages in the same order, so the counts agree; an
 * instance that missed a message (its subscriber was reconnecting) counts lower and only ever
 * skips. README "Legacy channels into history" has the measurements behind this choice.
 */
import { hash } from 'node:crypto';
import type { IngestClaim } from '../broker/broker.js';

/** How long an occurrence count is remembered, here and in Redis. */
export const CLAIM_TTL_MS = 60_000;

export class LegacyClaims {
  private readonly seen = new Map<string, { count: number; until: number }>();
  private lastSweep = 0;

  constructor(private readonly ttlMs = CLAIM_TTL_MS, private readonly clock: () => number = Date.now) {}

  /** Call once per received message, in arrival order, before anything asynchronous. */
  next(channel: string, text: string): IngestClaim {
    const now = this.clock();
    if (now - this.lastSweep > this.ttlMs) this.sweep(now);
    // The one-shot hash: a Hash object per message cost twice as much.
    const key = hash('sha1', `${channel}\n${text}`, 'base64url');
    const entry = this.seen.get(key);
    const count = entry && entry.until > now ? entry.count + 1 : 1;
    this.seen.set(key, { count, until: now + this.ttlMs });
    return { key, occurrence: count };
  }

  get size(): number {
    return this.seen.size;
  }

  private sweep(now: number): void {
    this.lastSweep = now;
    for (const [key, entry] of this.seen) if (entry.until <= now) this.seen.delete(key);
  }
}
