/**
 * An ingress that runs beside the gateway and feeds the shared `Ingress` (the Redis legacy
 * channels today). The gateway starts each one after the broker and closes it before the broker,
 * so a source may share the broker's connections.
 */
import type { Ingress } from './ingress.js';

export interface ExternalIngress {
  /** Short name for logs, e.g. `redis`. */
  readonly name: string;
  /** Begin handing messages to `ingress`. Must not reject because an external system is down. */
  start(ingress: Ingress): Promise<void>;
  close(): Promise<void>;
}
