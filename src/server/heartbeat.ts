/**
 * Periodic work: protocol pings (terminate connections that missed the last pong), JSON
 * server_ping to everyone, room_ping to entity rooms, and the entity-room cleanup.
 */
import type { Config } from './config/index.js';
import type { Connection } from './connection.js';
import type { Logger } from './log.js';
import { roomPing, serverPing, uniqueId } from './messages.js';
import type { Relay } from './relay.js';
import type { RoomRegistry } from './rooms.js';

export class Heartbeat {
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly timersConfig: Config['timers'],
    private readonly connections: ReadonlySet<Connection>,
    private readonly rooms: RoomRegistry,
    private readonly relay: Relay,
    private readonly log: Logger,
  ) {}

  start(): void {
    const t = this.timersConfig;
    this.every(t.protocolPingMs, () => this.protocolPing());
    this.every(t.serverPingMs, () => this.relay.toLocalAll(serverPing()));
    this.every(t.roomPingMs, () => this.roomPings());
    this.every(t.roomCleanupMs, () => this.cleanupRooms());
  }

  stop(): void {
    for (const timer of this.timers.splice(0)) clearInterval(timer);
  }

  protocolPing(): void {
    for (const conn of this.connections) {
      if (!conn.alive) {
        this.log.info({ conn: conn.id }, 'connection missed its pong; terminating');
        conn.terminate();
        continue;
      }
      conn.alive = false;
      try {
        conn.protocolPing();
      } catch {
        conn.terminate();
      }
    }
  }

  roomPings(): void {
    const pingId = uniqueId('rping_');
    for (const roomId of this.rooms.roomIds('entity')) this.relay.toLocalRoom(roomId, roomPing(roomId, pingId));
  }

  cleanupRooms(): void {
    const removed = this.rooms.removeIdleEntityMembers(this.timersConfig.roomIdleMs);
    if (removed.length > 0) this.log.info({ removed: removed.length }, 'removed idle entity-room members');
  }

  private every(ms: number, fn: () => void): void {
    const timer = setInterval(() => {
      try {
        fn();
      } catch (err) {
        this.log.error({ err }, 'periodic task failed');
      }
    }, ms);
    timer.unref();
    this.timers.push(timer);
  }
}
