/**
 * The bus carries deliveries between gateway instances. `publish` delivers on this instance at
 * once (through the handler given to `start`) and, for a clustered bus, on every other instance
 * exactly once. The memory bus is the single-node default; the Redis bus spans instances.
 */

/** Where a delivery goes: every connection, or the members of one room. */
export type BusTarget = { kind: 'all' } | { kind: 'room'; roomId: string };

export interface BusEnvelope {
  /** Instance id of the publisher; an instance ignores its own envelopes coming back. */
  origin: string;
  target: BusTarget;
  /** The complete JSON text to send, serialised once by the publisher. */
  frame: string;
  /** Connection id on the origin instance that must not receive it (the sender). */
  exclude?: string;
  /** Reserved for history/recovery: the stream this delivery belongs to and its offset there. */
  stream?: string;
  seq?: number;
  /** ms since epoch when the message entered the gateway, for delivery-latency metrics. */
  ingressAt?: number;
  /** The frame's `type`, for metrics; set by the relay and carried between instances. */
  type?: string;
}

export type BusStatus = 'disabled' | 'connecting' | 'connected' | 'disconnected';

export type DeliverFn = (envelope: BusEnvelope) => void;
export type BusStatusListener = (from: BusStatus, to: BusStatus) => void;

export interface Bus {
  /** 'disabled' for the memory bus (no external system involved). */
  readonly status: BusStatus;
  /** Begin delivering: local deliveries and those from other instances go to `deliver`. */
  start(deliver: DeliverFn): Promise<void>;
  /** Deliver here now and, where clustered, on every other instance once. Never throws. */
  publish(envelope: BusEnvelope): void;
  /** Called on every status transition (metrics count reconnects from it). */
  onStatusChange(listener: BusStatusListener): void;
  close(): Promise<void>;
}
