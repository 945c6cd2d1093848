/**
 * Hooks the gateway calls at the points worth counting. The metrics module implements them;
 * the default does nothing, so the core has no dependency on any metrics library.
 */
import type { LegacyChannel } from '../protocol/constants.js';
import type { BusEnvelope, BusStatus } from './bus/bus.js';
import type { IngressSource } from './ingress/ingress.js';
import type { SpoolOutcome } from './ingress/spool.js';

export interface GatewayObserver {
  connectionOpened(): void;
  connectionClosed(code: number): void;
  connectionRefused(reason: 'path' | 'origin' | 'capacity'): void;
  messageIn(type: string, bytes: number): void;
  errorSent(code: string): void;
  ingress(channel: LegacyChannel, source: IngressSource): void;
  spoolFile(outcome: SpoolOutcome): void;
  delivered(envelope: BusEnvelope, recipients: number): void;
  busStatusChanged(from: BusStatus, to: BusStatus): void;
}

export const noopObserver: GatewayObserver = {
  connectionOpened() {}, connectionClosed() {}, connectionRefused() {}, messageIn() {}, errorSent() {},
  ingress() {}, spoolFile() {}, delivered() {}, busStatusChanged() {},
};
