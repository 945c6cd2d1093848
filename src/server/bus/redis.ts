/**
 * The Redis bus: several gateway instances behind a load balancer behave as one. `publish`
 * delivers on this instance at once and PUBLISHes the envelope on one cluster channel
 * (`<REDIS_PREFIX>bus`) that every instance subscribes to; an instance ignores its own envelopes
 * coming back, so each instance delivers every message exactly once, and only the origin (which
 * knows the sender's connection) applies sender exclusion.
 *
 * While Redis is down the local delivery still happens and the remote PUBLISH is dropped, not
 * queued (logged once per outage with the count). While Redis is slow, at most
 * `maxPendingPublishes` wait for a reply; beyond that remote publishes are dropped too.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log.js';
import type { RedisLink } from '../redis/link.js';
import { ThrottledLog } from '../redis/throttled-log.js';
import type { Bus, BusEnvelope, BusStatus, BusStatusListener, DeliverFn } from './bus.js';
import { decodeEnvelope, encodeEnvelope } from './codec.js';

export interface RedisBusOptions {
  instanceId: string;
  /** The cluster channel, `<REDIS_PREFIX>bus` (default `portico-ws:bus`). */
  channel: string;
  /** REDIS_MAX_PENDING_PUBLISHES, default 10 000. */
  maxPendingPublishes: number;
  log: Logger;
}

export type DropReason = 'disconnected' | 'backlog' | 'error';

export class RedisBus implements Bus {
  /** Remote publishes not sent since start, by any reason (local delivery happened for all). */
  droppedPublishes = 0;
  private deliver: DeliverFn | null = null;
  private pending = 0;
  private droppedThisOutage = 0;
  /** Distinguishes this process from another instance misconfigured with the same instance id. */
  private readonly nonce = randomBytes(8).toString('hex');
  private duplicateIdWarned = false;
  private readonly warnings: ThrottledLog;

  constructor(private readonly link: RedisLink, private readonly opts: RedisBusOptions) {
    this.warnings = new ThrottledLog(opts.log);
    link.onStatusChange((_from, to) => {
      if (to !== 'connected' || this.droppedThisOutage === 0) return;
      opts.log.info({ dropped: this.droppedThisOutage }, 'redis is back; messages published during the outage reached this instance only');
      this.droppedThisOutage = 0;
    });
  }

  get status(): BusStatus {
    return this.link.status;
  }

  /** Publishes sent to Redis and not yet acknowledged (bounded by `maxPendingPublishes`). */
  get pendingPublishes(): number {
    return this.pending;
  }

  async start(deliver: DeliverFn): Promise<void> {
    this.deliver = deliver;
    await this.link.subscriber.subscribe(this.opts.channel, this.receive);
    await this.link.open();
  }

  publish(envelope: BusEnvelope): void {
    this.deliverLocally(envelope);
    if (!this.link.canPublish) return this.drop('disconnected');
    if (this.pending >= this.opts.maxPendingPublishes) return this.drop('backlog');
    this.pending += 1;
    this.link.publisher.client.publish(this.opts.channel, encodeEnvelope(envelope, this.nonce), (err) => {
      this.pending -= 1;
      if (err) this.drop('error', err);
    });
  }

  onStatusChange(listener: BusStatusListener): void {
    this.link.onStatusChange(listener);
  }

  async close(): Promise<void> {
    await this.link.subscriber.unsubscribe(this.opts.channel);
    await this.link.close();
    this.warnings.flush();
    this.deliver = null;
  }

  /** Envelopes from the cluster channel, including this instance's own (ignored). */
  private readonly receive = (text: string): void => {
    const decoded = decodeEnvelope(text);
    if (!decoded) {
      this.warnings.warn({ channel: this.opts.channel, bytes: text.length }, 'ignored a bus message this version cannot decode');
      return;
    }
    if (decoded.envelope.origin === this.opts.instanceId) {
      if (decoded.nonce !== this.nonce && !this.duplicateIdWarned) {
        this.duplicateIdWarned = true;
        this.opts.log.error({ instance: this.opts.instanceId }, 'another gateway uses this instance id (WSS_INSTANCE_ID); messages between the two are lost');
      }
      return;
    }
    this.deliverLocally(decoded.envelope);
  };

  private deliverLocally(envelope: BusEnvelope): void {
    try {
      this.deliver?.(envelope);
    } catch (err) {
      this.warnings.warn({ err }, 'local delivery failed');
    }
  }

  private drop(reason: DropReason, err?: Error): void {
    this.droppedPublishes += 1;
    if (reason === 'disconnected' || !this.link.canPublish) {
      if (this.droppedThisOutage++ === 0) {
        this.opts.log.warn('redis unavailable: messages now reach this instance\'s clients only (not sent to other instances, not queued)');
      }
      return;
    }
    this.warnings.warn({ reason, err: err?.message, pending: this.pending }, 'message not sent to other instances');
  }
}
