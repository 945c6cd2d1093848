/** Single-node bus: a publish is a local delivery. The embedded default. */
import type { Bus, BusEnvelope, BusStatusListener, DeliverFn } from './bus.js';

export class MemoryBus implements Bus {
  readonly status = 'disabled' as const;
  private deliver: DeliverFn | null = null;

  async start(deliver: DeliverFn): Promise<void> {
    this.deliver = deliver;
  }

  publish(envelope: BusEnvelope): void {
    this.deliver?.(envelope);
  }

  /** The memory bus never changes status. */
  onStatusChange(_listener: BusStatusListener): void {}

  async close(): Promise<void> {
    this.deliver = null;
  }
}

export const createMemoryBus = (): Bus => new MemoryBus();
