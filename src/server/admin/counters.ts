/**
 * Counts for the admin view's charts, independent of /metrics (which may be off): an observer
 * that forwards every hook to the gateway's own observer and adds to a few plain counters, and a
 * ring of samples taken every few seconds so a page opened now shows the last 15 minutes.
 */
import { ERROR_CODES } from '../../protocol/constants.js';
import type { BrokerStatus, Publication } from '../broker/broker.js';
import type { GatewayObserver, GatewayState, MetricsExposition } from '../observer.js';

export const DROP_REASONS = ['rate_limit', 'slow_consumer', 'oversize', 'forbidden_type', 'undeliverable'] as const;
export type AdminDropReason = (typeof DROP_REASONS)[number];
export type DropCounts = Record<AdminDropReason, number>;

/** Answers to `recover` after a reconnect: every stream recovered, or not (gap too old, history lost). */
export interface RecoveryCounts { recovered: number; failed: number }

export interface Totals {
  messagesIn: number;
  messagesOut: number;
  deliveries: number;
  drops: DropCounts;
  recovery: RecoveryCounts;
}

/** One point of the charts: connections at `t`, the rest per second since the previous sample. */
export interface Sample {
  t: number;
  connections: number;
  messagesIn: number;
  messagesOut: number;
  deliveries: number;
  drops: DropCounts;
  recovery: RecoveryCounts;
}

const zeroDrops = (): DropCounts => ({ rate_limit: 0, slow_consumer: 0, oversize: 0, forbidden_type: 0, undeliverable: 0 });
/** Rooms whose messages are counted per minute at most; beyond, new rooms wait for the next minute. */
const MAX_COUNTED_ROOMS = 10_000;

export class AdminCounters implements GatewayObserver {
  readonly totals: Totals = { messagesIn: 0, messagesOut: 0, deliveries: 0, drops: zeroDrops(), recovery: { recovered: 0, failed: 0 } };
  exposition?: () => Promise<MetricsExposition>;
  /** Messages per room in the current and the previous minute. */
  private roomsNow = new Map<string, number>();
  private roomsBefore = new Map<string, number>();
  private minuteStartedAt = Date.now();

  constructor(private readonly inner: GatewayObserver) {
    const exposition = inner.exposition?.bind(inner);
    if (exposition) this.exposition = exposition;
  }

  connectionOpened(): void { this.inner.connectionOpened(); }

  connectionClosed(code: number): void {
    if (code === 1009) this.totals.drops.oversize += 1;
    this.inner.connectionClosed(code);
  }

  connectionRefused(reason: Parameters<GatewayObserver['connectionRefused']>[0]): void { this.inner.connectionRefused(reason); }

  messageIn(type: string, bytes: number): void {
    this.totals.messagesIn += 1;
    this.inner.messageIn(type, bytes);
  }

  messageOut(type: string, bytes: number, recipients: number): void {
    if (recipients > 0) this.totals.messagesOut += recipients;
    this.inner.messageOut(type, bytes, recipients);
  }

  errorSent(code: string): void {
    if (code === ERROR_CODES.RATE_LIMITED) this.totals.drops.rate_limit += 1;
    else if (code === ERROR_CODES.FORBIDDEN_TYPE) this.totals.drops.forbidden_type += 1;
    this.inner.errorSent(code);
  }

  ingress(...args: Parameters<GatewayObserver['ingress']>): void { this.inner.ingress(...args); }
  spoolFile(...args: Parameters<GatewayObserver['spoolFile']>): void { this.inner.spoolFile(...args); }

  delivered(envelope: Publication, recipients: number): void {
    this.totals.deliveries += recipients;
    this.totals.messagesOut += recipients;
    if (envelope.target.kind === 'room') {
      const id = envelope.target.roomId;
      const n = this.roomsNow.get(id);
      if (n !== undefined) this.roomsNow.set(id, n + 1);
      else if (this.roomsNow.size < MAX_COUNTED_ROOMS) this.roomsNow.set(id, 1);
    }
    this.inner.delivered(envelope, recipients);
  }

  undeliverable(reason: Parameters<GatewayObserver['undeliverable']>[0]): void {
    this.totals.drops.undeliverable += 1;
    this.inner.undeliverable(reason);
  }

  recovered(recovered: boolean, missed: number): void {
    this.totals.recovery[recovered ? 'recovered' : 'failed'] += 1;
    this.inner.recovered?.(recovered, missed);
  }

  slowConsumer(): void {
    this.totals.drops.slow_consumer += 1;
    this.inner.slowConsumer?.();
  }

  authCallback(...args: Parameters<GatewayObserver['authCallback']>): void { this.inner.authCallback(...args); }
  busStatusChanged(from: BrokerStatus, to: BrokerStatus): void { this.inner.busStatusChanged(from, to); }
  attach(state: GatewayState): void { this.inner.attach?.(state); }

  /** Messages to `roomId` over about the last minute (the previous full minute and the current part, weighted). */
  roomMessagesPerMinute(roomId: string, now = Date.now()): number {
    this.rotate(now);
    const part = Math.min(1, (now - this.minuteStartedAt) / 60_000);
    return Math.round((this.roomsBefore.get(roomId) ?? 0) * (1 - part) + (this.roomsNow.get(roomId) ?? 0));
  }

  private rotate(now: number): void {
    if (now - this.minuteStartedAt < 60_000) return;
    this.roomsBefore = now - this.minuteStartedAt < 120_000 ? this.roomsNow : new Map();
    this.roomsNow = new Map();
    this.minuteStartedAt = now;
  }
}

/** The last `capacity` samples, oldest first. */
export class SampleRing {
  private readonly samples: Sample[] = [];
  private last: { t: number; totals: Totals } | null = null;

  constructor(private readonly capacity: number) {}

  /** Take a sample from the running totals (rates per second since the previous one). */
  take(connections: number, totals: Totals, now = Date.now()): Sample {
    const prev = this.last;
    const seconds = prev === null ? 1 : Math.max(0.001, (now - prev.t) / 1000);
    const rate = (cur: number, before: number | undefined): number => Math.round(((cur - (before ?? cur)) / seconds) * 100) / 100;
    const drops = zeroDrops();
    for (const r of Object.keys(drops) as AdminDropReason[]) drops[r] = rate(totals.drops[r], prev?.totals.drops[r]);
    const sample: Sample = {
      t: now, connections,
      messagesIn: rate(totals.messagesIn, prev?.totals.messagesIn),
      messagesOut: rate(totals.messagesOut, prev?.totals.messagesOut),
      deliveries: rate(totals.deliveries, prev?.totals.deliveries),
      drops,
      recovery: { recovered: rate(totals.recovery.recovered, prev?.totals.recovery.recovered), failed: rate(totals.recovery.failed, prev?.totals.recovery.failed) },
    };
    this.last = { t: now, totals: { ...totals, drops: { ...totals.drops }, recovery: { ...totals.recovery } } };
    this.samples.push(sample);
    if (this.samples.length > this.capacity) this.samples.shift();
    return sample;
  }

  list(): Sample[] {
    return [...this.samples];
  }
}
