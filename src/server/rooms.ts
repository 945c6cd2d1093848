/**
 * Room membership on this instance: room id → members with their last activity in that room.
 * Rooms exist while they have members.
 */
import { roomKind, type RoomKind } from '../protocol/room-ids.js';
import type { Connection } from './connection.js';

export class RoomRegistry {
  private readonly rooms = new Map<string, Map<Connection, number>>();

  join(conn: Connection, roomId: string, now = Date.now()): void {
    let members = this.rooms.get(roomId);
    if (!members) {
      members = new Map();
      this.rooms.set(roomId, members);
    }
    members.set(conn, now);
    conn.noteJoined(roomId);
  }

  leave(conn: Connection, roomId: string): boolean {
    const members = this.rooms.get(roomId);
    conn.noteLeft(roomId);
    if (!members?.delete(conn)) return false;
    if (members.size === 0) this.rooms.delete(roomId);
    return true;
  }

  leaveAll(conn: Connection): void {
    for (const roomId of conn.roomIds()) this.leave(conn, roomId);
  }

  has(roomId: string): boolean {
    return this.rooms.has(roomId);
  }

  /** Members on this instance. */
  size(roomId: string): number {
    return this.rooms.get(roomId)?.size ?? 0;
  }

  isMember(conn: Connection, roomId: string): boolean {
    return this.rooms.get(roomId)?.has(conn) ?? false;
  }

  members(roomId: string): Iterable<Connection> {
    return this.rooms.get(roomId)?.keys() ?? [];
  }

  /** Record activity of a member in a room (room_ping_response). */
  touch(conn: Connection, roomId: string, now = Date.now()): boolean {
    const members = this.rooms.get(roomId);
    if (!members?.has(conn)) return false;
    members.set(conn, now);
    return true;
  }

  roomIds(kind?: RoomKind): string[] {
    const ids = [...this.rooms.keys()];
    return kind ? ids.filter((id) => roomKind(id) === kind) : ids;
  }

  countByKind(): Record<RoomKind, number> {
    const counts: Record<RoomKind, number> = { session: 0, entity: 0, user: 0, other: 0 };
    for (const id of this.rooms.keys()) counts[roomKind(id)] += 1;
    return counts;
  }

  /**
   * Remove entity-room members silent for longer than `idleMs`. Activity is the later of the
   * member's last room_ping_response and the connection's last sign of life, so a live
   * connection keeps its rooms even if its page never answers room_ping (the original's defect).
   */
  removeIdleEntityMembers(idleMs: number, now = Date.now()): Array<{ conn: Connection; roomId: string }> {
    const removed: Array<{ conn: Connection; roomId: string }> = [];
    for (const [roomId, members] of this.rooms) {
      if (roomKind(roomId) !== 'entity') continue;
      for (const [conn, lastActivity] of members) {
        if (now - Math.max(lastActivity, conn.lastSeen) > idleMs) removed.push({ conn, roomId });
      }
    }
    for (const { conn, roomId } of removed) this.leave(conn, roomId);
    return removed;
  }
}
