/**
 * Outbound deliveries: serialise once, publish through the broker, and (as the broker's deliver
 * function) write the frame to the matching local connections.
 */
import type { Outbound } from '../protocol/types.js';
import { targetOf, type Broker, type BrokerTarget, type IngestClaim, type Publication, type StreamPosition } from './broker/broker.js';
import type { Connection } from './connection.js';
import { prepareFrame } from './fanout.js';
import type { RoomRegistry } from './rooms.js';

export class Relay {
  constructor(
    private readonly broker: Broker,
    private readonly instanceId: string,
    private readonly rooms: RoomRegistry,
    private readonly connections: ReadonlySet<Connection>,
    private readonly onDelivered: (publication: Publication, recipients: number) => void = () => {},
  ) {}

  /** Every connection on every instance, except `exclude`. Enters the `broadcast` stream. */
  toAll(message: Outbound, exclude?: Connection, ingressAt?: number): Promise<StreamPosition | null> {
    return this.publish({ kind: 'all' }, message, exclude, ingressAt);
  }

  /** Members of `roomId` on every instance, except `exclude`. Enters the room's stream. */
  toRoom(roomId: string, message: Outbound, exclude?: Connection, ingressAt?: number): Promise<StreamPosition | null> {
    return this.publish({ kind: 'room', roomId }, message, exclude, ingressAt);
  }

  /**
   * A message every instance received itself. With `claim` (a legacy Redis channel message) it
   * enters the room's stream once across instances and reaches the members everywhere from there;
   * without one (pings) it is written to this instance's members only and kept nowhere.
   */
  toLocalRoom(roomId: string, message: Outbound, ingressAt?: number, claim?: IngestClaim): void {
    this.local({ kind: 'room', roomId }, message, ingressAt, claim);
  }

  /** Every connection on this instance (see toLocalRoom for `claim`). */
  toLocalAll(message: Outbound, ingressAt?: number, claim?: IngestClaim): void {
    this.local({ kind: 'all' }, message, ingressAt, claim);
  }

  /**
   * The broker's deliver function: write one publication to this instance's matching connections.
   * The frame is built once and shared; each connection only queues a reference (see fanout.ts).
   * A connection recovering this stream holds it (recovery/gate.ts).
   */
  readonly deliver = (publication: Publication): void => {
    const { target, position } = publication;
    const targets = target.kind === 'all' ? this.connections : this.rooms.members(target.roomId);
    const exclude = publication.origin === this.instanceId ? publication.exclude : undefined;
    let prepared: ReturnType<typeof prepareFrame> | null = null;
    let sent = 0;
    for (const conn of targets) {
      if (exclude !== undefined && conn.id === exclude) continue;
      prepared ??= prepareFrame(publication.frame);
      if (conn.gate !== null && position !== undefined && conn.gate.intercept(position, prepared)) continue;
      if (conn.sendPrepared(prepared)) sent += 1;
    }
    this.onDelivered(publication, sent);
  };

  /** Whether a stream has members here (the broker catches those up after an outage). */
  readonly hasMembers = (stream: string): boolean => {
    const target = targetOf(stream);
    return target.kind === 'all' ? this.connections.size > 0 : this.rooms.has(target.roomId);
  };

  private local(target: BrokerTarget, message: Outbound, ingressAt = Date.now(), claim?: IngestClaim): void {
    if (claim) {
      void this.broker.publish({ ...this.request(message, ingressAt), target, claim });
      return;
    }
    this.deliver({ origin: this.instanceId, target, ...this.request(message, ingressAt) });
  }

  private publish(target: BrokerTarget, message: Outbound, exclude?: Connection, ingressAt = Date.now()): Promise<StreamPosition | null> {
    return this.broker.publish({ ...this.request(message, ingressAt), target, exclude: exclude?.id });
  }

  private request(message: Outbound, ingressAt: number): { frame: string; ingressAt: number; type?: string } {
    const type = message.type;
    return { frame: JSON.stringify(withoutStreamFields(message)), ingressAt, type: typeof type === 'string' ? type : undefined };
  }
}

/**
 * Only the broker says where a publication stands: a `stream_position` (or `stream_positions`)
 * a client or payload brought along would outlive the broker's (the last duplicate key wins in
 * JSON.parse) and make receivers drop real messages as already seen.
 */
function withoutStreamFields(message: object): object {
  if (!Object.hasOwn(message, 'stream_position') && !Object.hasOwn(message, 'stream_positions')) return message;
  const { stream_position: _p, stream_positions: _ps, ...rest } = message as Record<string, unknown>;
  return rest;
}
