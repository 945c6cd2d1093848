/**
 * Outbound deliveries: serialise once, publish on the bus, and (as the bus's deliver function)
 * write the frame to the matching local connections.
 */
import type { Outbound } from '../protocol/types.js';
import type { Bus, BusEnvelope } from './bus/bus.js';
import type { Connection } from './connection.js';
import { prepareFrame } from './fanout.js';
import type { RoomRegistry } from './rooms.js';

export class Relay {
  constructor(
    private readonly bus: Bus,
    private readonly instanceId: string,
    private readonly rooms: RoomRegistry,
    private readonly connections: ReadonlySet<Connection>,
    private readonly onDelivered: (envelope: BusEnvelope, recipients: number) => void = () => {},
  ) {}

  /** Every connection on every instance, except `exclude`. */
  toAll(message: Outbound, exclude?: Connection, ingressAt?: number): void {
    this.publish({ kind: 'all' }, message, exclude, ingressAt);
  }

  /** Members of `roomId` on every instance, except `exclude`. */
  toRoom(roomId: string, message: Outbound, exclude?: Connection, ingressAt?: number): void {
    this.publish({ kind: 'room', roomId }, message, exclude, ingressAt);
  }

  /** Members of `roomId` on this instance only (messages every instance already received). */
  toLocalRoom(roomId: string, message: Outbound, ingressAt?: number): void {
    this.deliver(this.envelope({ kind: 'room', roomId }, message, undefined, ingressAt));
  }

  /** Every connection on this instance only. */
  toLocalAll(message: Outbound, ingressAt?: number): void {
    this.deliver(this.envelope({ kind: 'all' }, message, undefined, ingressAt));
  }

  /**
   * The bus's deliver function: write one envelope to this instance's matching connections. The
   * frame is built once and shared; each connection only queues a reference (see fanout.ts).
   */
  readonly deliver = (envelope: BusEnvelope): void => {
    const targets = envelope.target.kind === 'all' ? this.connections : this.rooms.members(envelope.target.roomId);
    const exclude = envelope.origin === this.instanceId ? envelope.exclude : undefined;
    let prepared: ReturnType<typeof prepareFrame> | null = null;
    let sent = 0;
    for (const conn of targets) {
      if (exclude !== undefined && conn.id === exclude) continue;
      prepared ??= prepareFrame(envelope.frame);
      if (conn.sendPrepared(prepared)) sent += 1;
    }
    this.onDelivered(envelope, sent);
  };

  private publish(target: BusEnvelope['target'], message: Outbound, exclude?: Connection, ingressAt?: number): void {
    this.bus.publish(this.envelope(target, message, exclude, ingressAt));
  }

  private envelope(target: BusEnvelope['target'], message: Outbound, exclude?: Connection, ingressAt = Date.now()): BusEnvelope {
    const type = message.type;
    return { origin: this.instanceId, target, frame: JSON.stringify(message), exclude: exclude?.id, ingressAt, type: typeof type === 'string' ? type : undefined };
  }
}
