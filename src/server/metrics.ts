/**
 * Prometheus metrics: a `GatewayObserver` backed by prom-client, with a private Registry per
 * gateway (so several gateways in one process, as in tests, never share counters), plus Node's
 * default process metrics and event-loop lag. Names are prefixed `portico_ws_`.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { LegacyChannel } from '../protocol/constants.js';
import { SERVER_ONLY_TYPES } from '../protocol/message-types.js';
import { clientSchemas } from '../protocol/validate.js';
import type { CallbackOutcome } from './auth/http-callback.js';
import type { BrokerStatus, Publication } from './broker/broker.js';
import type { DropReason, IngressSource } from './ingress/ingress.js';
import type { SpoolOutcome } from './ingress/spool.js';
import type { GatewayObserver, GatewayState, MetricsExposition } from './observer.js';
import type { RefusalReason } from './policy/upgrade-policy.js';

/**
 * The only values of the `type` label: the protocol's own types (what clients may send and what
 * only the server sends) and the dispatcher's fixed words. Clients and publishers choose the
 * rest, so every other type counts as "other": a client inventing types cannot grow /metrics.
 */
export const TYPE_LABELS: ReadonlySet<string> = new Set([...Object.keys(clientSchemas), ...SERVER_ONLY_TYPES, 'invalid', 'untyped']);
export const OTHER_TYPE_LABEL = 'other';

const BUS_STATUSES: BrokerStatus[] = ['disabled', 'connecting', 'connected', 'disconnected'];

export interface MetricsOptions {
  /** Extra labels on every series, e.g. `{ instance: config.instanceId }`. Default none. */
  labels?: Record<string, string>;
  /** Collect Node's default process metrics and event-loop lag. Default true. */
  processMetrics?: boolean;
}

export class GatewayMetrics implements GatewayObserver {
  readonly registry = new Registry();
  private state: GatewayState | null = null;
  private wasConnected = false;

  private readonly connectionsOpen: Gauge;
  private readonly connectionsTotal: Counter;
  private readonly refused: Counter<'reason'>;
  private readonly disconnects: Counter<'code'>;
  private readonly rooms: Gauge<'kind'>;
  private readonly messagesIn: Counter<'type'>;
  private readonly bytesIn: Counter;
  private readonly messagesOut: Counter<'type'>;
  private readonly bytesOut: Counter;
  private readonly errors: Counter<'code'>;
  private readonly ingressTotal: Counter<'channel' | 'source'>;
  private readonly spoolFiles: Counter<'outcome'>;
  private readonly undeliverableTotal: Counter<'reason'>;
  private readonly authCallbacks: Counter<'callback' | 'outcome'>;
  private readonly busStatus: Gauge<'status'>;
  private readonly redisReconnects: Counter;
  private readonly latency: Histogram;
  private readonly recoveries: Counter<'recovered'>;
  private readonly recoveredMessages: Counter;

  constructor(options: MetricsOptions = {}) {
    const registers = [this.registry];
    if (options.labels) this.registry.setDefaultLabels(options.labels);
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 10 });
    const self = this;

    this.connectionsOpen = new Gauge({
      name: 'portico_ws_connections_open', help: 'WebSocket connections open now', registers,
      collect() { if (self.state) this.set(self.state.connections()); },
    });
    this.connectionsTotal = new Counter({ name: 'portico_ws_connections_total', help: 'WebSocket connections accepted', registers });
    this.refused = new Counter({ name: 'portico_ws_connections_refused_total', help: 'Upgrades refused, by reason', labelNames: ['reason'], registers });
    this.disconnects = new Counter({ name: 'portico_ws_disconnects_total', help: 'Closed connections, by WebSocket close code', labelNames: ['code'], registers });
    this.rooms = new Gauge({
      name: 'portico_ws_rooms', help: 'Rooms with members on this instance, by kind', labelNames: ['kind'], registers,
      collect() {
        if (!self.state) return;
        for (const [kind, n] of Object.entries(self.state.roomsByKind())) this.set({ kind }, n);
      },
    });
    this.messagesIn = new Counter({ name: 'portico_ws_messages_in_total', help: 'Client frames received, by message type', labelNames: ['type'], registers });
    this.bytesIn = new Counter({ name: 'portico_ws_bytes_in_total', help: 'Bytes of client frames received', registers });
    this.messagesOut = new Counter({ name: 'portico_ws_messages_out_total', help: 'Messages written to connections (one per recipient), by type', labelNames: ['type'], registers });
    this.bytesOut = new Counter({ name: 'portico_ws_bytes_out_total', help: 'Bytes of messages written to connections', registers });
    this.errors = new Counter({ name: 'portico_ws_errors_total', help: 'Error replies and rate-limit closes, by error code', labelNames: ['code'], registers });
    this.ingressTotal = new Counter({
      name: 'portico_ws_ingress_total', help: 'Messages published by the application, by channel and source (redis, spool, http)',
      labelNames: ['channel', 'source'], registers,
    });
    this.spoolFiles = new Counter({ name: 'portico_ws_spool_files_total', help: 'Spool files processed, by outcome', labelNames: ['outcome'], registers });
    this.undeliverableTotal = new Counter({
      name: 'portico_ws_undeliverable_total', help: 'Published payloads dropped because their target cannot be honoured (never broadcast), by reason',
      labelNames: ['reason'], registers,
    });
    this.authCallbacks = new Counter({
      name: 'portico_ws_auth_callbacks_total', help: 'Questions to PorticoEstate (identity, subscribe authorization), by how they were answered (cached, yes, no, unavailable)',
      labelNames: ['callback', 'outcome'], registers,
    });
    this.busStatus = new Gauge({
      name: 'portico_ws_bus_status', help: 'Bus (Redis) status: 1 for the current one', labelNames: ['status'], registers,
      collect() {
        if (!self.state) return;
        const now = self.state.busStatus();
        for (const s of BUS_STATUSES) this.set({ status: s }, s === now ? 1 : 0);
      },
    });
    this.redisReconnects = new Counter({ name: 'portico_ws_redis_reconnects_total', help: 'Times the bus got its Redis connection back after losing it', registers });
    this.recoveries = new Counter({ name: 'portico_ws_recoveries_total', help: 'recover requests answered, by whether every stream recovered', labelNames: ['recovered'], registers });
    this.recoveredMessages = new Counter({ name: 'portico_ws_recovered_messages_total', help: 'Missed messages sent to recovering connections', registers });
    new Gauge({
      name: 'portico_ws_outage_buffer_messages', help: 'Messages accepted while Redis was down, kept for the other instances', registers,
      collect() { if (self.state) this.set(self.state.outage().buffered); },
    });
    new Gauge({
      name: 'portico_ws_outage_dropped_messages', help: 'Messages beyond WSS_OUTAGE_BUFFER that reached this instance only (since start)', registers,
      collect() { if (self.state) this.set(self.state.outage().dropped); },
    });
    new Gauge({
      name: 'portico_ws_outage_replayed_messages', help: 'Messages kept during outages and sent to the other instances once Redis was back (since start)', registers,
      collect() { if (self.state) this.set(self.state.outage().replayed); },
    });
    this.latency = new Histogram({
      name: 'portico_ws_delivery_latency_seconds', help: 'Time from ingress (or client frame) to the socket write',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers,
    });
  }

  attach(state: GatewayState): void {
    this.state = state;
  }

  async exposition(): Promise<MetricsExposition> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  connectionOpened(): void {
    this.connectionsTotal.inc();
    if (!this.state) this.connectionsOpen.inc();
  }

  connectionClosed(code: number): void {
    this.disconnects.inc({ code: closeCodeLabel(code) });
    if (!this.state) this.connectionsOpen.dec();
  }

  connectionRefused(reason: RefusalReason): void {
    this.refused.inc({ reason });
  }

  messageIn(type: string, bytes: number): void {
    this.messagesIn.inc({ type: this.typeLabel(type) });
    this.bytesIn.inc(bytes);
  }

  messageOut(type: string, bytes: number, recipients: number): void {
    if (recipients <= 0) return;
    this.messagesOut.inc({ type: this.typeLabel(type) }, recipients);
    this.bytesOut.inc(bytes * recipients);
  }

  errorSent(code: string): void {
    this.errors.inc({ code });
  }

  ingress(channel: LegacyChannel, source: IngressSource): void {
    this.ingressTotal.inc({ channel, source });
  }

  spoolFile(outcome: SpoolOutcome): void {
    this.spoolFiles.inc({ outcome });
  }

  delivered(publication: Publication, recipients: number): void {
    if (recipients <= 0) return;
    this.messageOut(publication.type ?? frameType(publication.frame), Buffer.byteLength(publication.frame), recipients);
    if (publication.ingressAt !== undefined) this.latency.observe(Math.max(0, Date.now() - publication.ingressAt) / 1000);
  }

  recovered(recovered: boolean, missed: number): void {
    this.recoveries.inc({ recovered: String(recovered) });
    this.recoveredMessages.inc(missed);
  }

  undeliverable(reason: DropReason): void {
    this.undeliverableTotal.inc({ reason });
  }

  authCallback(callback: 'identity' | 'subscribe', outcome: CallbackOutcome): void {
    this.authCallbacks.inc({ callback, outcome });
  }

  busStatusChanged(_from: BrokerStatus, to: BrokerStatus): void {
    if (to !== 'connected') return;
    if (this.wasConnected) this.redisReconnects.inc();
    this.wasConnected = true;
  }

  private typeLabel(type: string): string {
    return TYPE_LABELS.has(type) ? type : OTHER_TYPE_LABEL;
  }
}

/**
 * The close code as a label. Clients choose their close code (any of 3000-4999 is valid), so
 * codes an application defines count as one "application" value; RFC 6455's own codes stay.
 */
function closeCodeLabel(code: number): string {
  return code >= 1000 && code < 3000 ? String(code) : 'application';
}

/** The `type` of a serialised message that arrived from another instance (its envelope carries none). */
function frameType(frame: string): string {
  try {
    const type = (JSON.parse(frame) as { type?: unknown }).type;
    return typeof type === 'string' ? type : 'untyped';
  } catch {
    return 'untyped';
  }
}

export function createMetrics(options: MetricsOptions = {}): GatewayMetrics {
  return new GatewayMetrics(options);
}
