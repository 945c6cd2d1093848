/**
 * Hooks the gateway calls at the points worth counting. The metrics module implements them;
 * the default does nothing, so the core has no dependency on any metrics library.
 */
import type { LegacyChannel } from '../protocol/constants.js';
import type { RoomKind } from '../protocol/room-ids.js';
import type { CallbackOutcome } from './auth/http-callback.js';
import type { BrokerStatus, OutageStats, Publication } from './broker/broker.js';
import type { DropReason, IngressSource } from './ingress/ingress.js';
import type { SpoolOutcome } from './ingress/spool.js';
import type { RefusalReason } from './policy/upgrade-policy.js';

/** Live gateway state an observer may read when it is scraped (gauges). */
export interface GatewayState {
  connections(): number;
  roomsByKind(): Record<RoomKind, number>;
  busStatus(): BrokerStatus;
  /** Messages kept for the other instances while Redis is down (and dropped, and replayed). */
  outage(): OutageStats;
}

/** A scrape of the observer's metrics, served by the gateway on GET /metrics. */
export interface MetricsExposition {
  contentType: string;
  body: string;
}

export interface GatewayObserver {
  connectionOpened(): void;
  connectionClosed(code: number): void;
  connectionRefused(reason: RefusalReason): void;
  messageIn(type: string, bytes: number): void;
  /** A message written to one connection outside the relay (replies, greetings). */
  messageOut(type: string, bytes: number, recipients: number): void;
  errorSent(code: string): void;
  ingress(channel: LegacyChannel, source: IngressSource): void;
  spoolFile(outcome: SpoolOutcome): void;
  delivered(publication: Publication, recipients: number): void;
  /** A published payload dropped because the gateway cannot reach exactly its intended recipients. */
  undeliverable(reason: DropReason): void;
  /** One question to PorticoEstate (identity or entity-room authorization) and how it was answered. */
  authCallback(callback: 'identity' | 'subscribe', outcome: CallbackOutcome): void;
  busStatusChanged(from: BrokerStatus, to: BrokerStatus): void;
  /** A `recover` answered: how many missed publications it sent, and whether all streams recovered. */
  recovered?(recovered: boolean, missed: number): void;
  /** Called once by the gateway's constructor, so gauges can read live state. */
  attach?(state: GatewayState): void;
  /** When present, the gateway serves it on GET /metrics (not under /wss, so the proxy does not expose it). */
  exposition?(): Promise<MetricsExposition>;
}

export const noopObserver: GatewayObserver = {
  connectionOpened() {}, connectionClosed() {}, connectionRefused() {}, messageIn() {}, messageOut() {}, errorSent() {},
  ingress() {}, spoolFile() {}, delivered() {}, undeliverable() {}, authCallback() {}, busStatusChanged() {},
};
