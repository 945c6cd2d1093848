/**
 * This instance's answers to the admin view's questions (asked over the cluster channel, by
 * itself or by the instance the browser reached): its state, its chart samples, its busiest
 * rooms, the members of one room, its recent warnings, and the actions addressed to it.
 * Identifiers leave masked: session ids as in the logs, session and user room ids by their
 * hash's first characters; entity room ids are public and stay whole.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { maskRoomId, maskSessionId, roomKind, ENTITY_ROOM_PREFIX, SESSION_ROOM_PREFIX, USER_ROOM_PREFIX, type RoomKind } from '../../protocol/room-ids.js';
import type { Connection } from '../connection.js';
import type { HealthReport } from '../gateway.js';
import type { Logger } from '../log.js';
import type { RoomRegistry } from '../rooms.js';
import { sessionRoomId } from '../session.js';
import { AdminCounters, SampleRing, type Sample, type Totals } from './counters.js';
import type { RecentLog, RecentLogLine } from './recent-log.js';

export const SAMPLE_INTERVAL_MS = 5000;
/** 15 minutes of samples. */
export const SAMPLE_COUNT = 180;
const BUSIEST_ROOMS = 20;
const LAG_RESOLUTION_MS = 10;
const MAX_LISTED_MEMBERS = 50;
/** A masked id's shortest usable prefix (after the kind): fewer would match too many rooms. */
const MIN_PREFIX_CHARS = 4;

export interface InstanceSnapshot extends HealthReport {
  version: string;
  draining: boolean;
  /** Event-loop delay over the last sample interval, in ms. */
  eventLoop: { meanMs: number; p99Ms: number; maxMs: number };
  memory: { rssBytes: number; heapUsedBytes: number };
  totals: Totals;
}

export interface RoomSummary { room: string; kind: RoomKind; members: number; perMinute: number }
export interface MemberView { connection: string; session: string | null; user: boolean; ip: string; rooms: number }
export interface RoomMembers { room: string; kind: RoomKind; members: MemberView[]; more: number }

/** What the instance exposes to the admin view; the gateway provides it. */
export interface AdminSource {
  readonly instanceId: string;
  readonly version: string;
  readonly log: Logger;
  readonly connections: ReadonlySet<Connection>;
  readonly rooms: RoomRegistry;
  readonly counters: AdminCounters;
  readonly recentLog: RecentLog;
  health(): HealthReport;
  /** Send a test notification to a room on every instance. */
  notifyRoom(roomId: string, message: string): void;
  /** Stop accepting, close every connection with 1012, then stop (the process exits). */
  drain(): void;
  readonly draining: boolean;
}

export class AdminInstance {
  readonly samples = new SampleRing(SAMPLE_COUNT);
  private readonly lag: IntervalHistogram = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  private lastLag = { meanMs: 0, p99Ms: 0, maxMs: 0 };
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly source: AdminSource) {}

  start(): void {
    this.lag.enable();
    this.sample();
    this.timer = setInterval(() => this.sample(), SAMPLE_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.lag.disable();
  }

  /** The cluster channel's responder. */
  readonly respond = (kind: string, body: unknown): unknown => {
    const args = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    switch (kind) {
      case 'snapshot': return this.snapshot();
      case 'samples': return this.samples.list();
      case 'rooms': return this.busiestRooms();
      case 'lookup': return this.lookup(String(args.query ?? ''));
      case 'logs': return this.source.recentLog.list();
      case 'disconnect': return this.disconnect(String(args.connection ?? ''));
      case 'drain': return this.drain();
      default: throw new Error(`unknown request "${kind}"`);
    }
  };

  snapshot(): InstanceSnapshot {
    const mem = process.memoryUsage();
    return {
      ...this.source.health(),
      version: this.source.version,
      draining: this.source.draining,
      eventLoop: this.lastLag,
      memory: { rssBytes: mem.rss, heapUsedBytes: mem.heapUsed },
      totals: this.source.counters.totals,
    };
  }

  busiestRooms(): RoomSummary[] {
    const { rooms, counters } = this.source;
    const all: Array<{ id: string; members: number; perMinute: number }> = [];
    for (const id of rooms.roomIds()) {
      let members = 0;
      for (const _ of rooms.members(id)) members += 1;
      all.push({ id, members, perMinute: counters.roomMessagesPerMinute(id) });
    }
    all.sort((a, b) => b.perMinute - a.perMinute || b.members - a.members);
    return all.slice(0, BUSIEST_ROOMS).map((r) => ({ room: maskRoomId(r.id), kind: roomKind(r.id), members: r.members, perMinute: r.perMinute }));
  }

  /**
   * Members of the rooms `query` names: a room id, a masked room id (its shown prefix), or a
   * session id (its session room).
   */
  lookup(query: string): RoomMembers[] {
    const ids = matchRooms(query.trim(), this.source.rooms.roomIds());
    return ids.map((id) => {
      const members: MemberView[] = [];
      let total = 0;
      for (const conn of this.source.rooms.members(id)) {
        total += 1;
        if (members.length < MAX_LISTED_MEMBERS) {
          members.push({ connection: conn.id, session: maskSessionId(conn.sessionId), user: Object.keys(conn.identities).length > 0, ip: conn.remoteAddress, rooms: conn.roomCount });
        }
      }
      return { room: maskRoomId(id), kind: roomKind(id), members, more: total - members.length };
    });
  }

  disconnect(connectionId: string): { disconnected: boolean } {
    for (const conn of this.source.connections) {
      if (conn.id !== connectionId) continue;
      this.source.log.warn({ conn: conn.id, session: maskSessionId(conn.sessionId) }, 'admin: connection disconnected');
      conn.close(1000, 'Disconnected by an administrator');
      return { disconnected: true };
    }
    return { disconnected: false };
  }

  drain(): { draining: true } {
    if (!this.source.draining) this.source.drain();
    return { draining: true };
  }

  private sample(): void {
    if (this.lag.count > 0) {
      // The histogram times a timer of LAG_RESOLUTION_MS; what exceeds it is the loop's delay.
      const ms = (ns: number) => Math.max(0, Math.round((ns / 1e6 - LAG_RESOLUTION_MS) * 10) / 10);
      this.lastLag = { meanMs: ms(this.lag.mean), p99Ms: ms(this.lag.percentile(99)), maxMs: ms(this.lag.max) };
      this.lag.reset();
    }
    this.samples.take(this.source.connections.size, this.source.counters.totals);
  }
}

/** The room ids `query` names among `known`. */
export function matchRooms(query: string, known: readonly string[]): string[] {
  if (query.length === 0) return [];
  const masked = /(…|\.\.\.)$/.exec(query);
  if (masked) {
    const prefix = query.slice(0, masked.index);
    const kindPrefix = [SESSION_ROOM_PREFIX, USER_ROOM_PREFIX, ENTITY_ROOM_PREFIX].find((p) => prefix.startsWith(p)) ?? '';
    if (prefix.length - kindPrefix.length < MIN_PREFIX_CHARS) return [];
    return known.filter((id) => id.startsWith(prefix));
  }
  if (known.includes(query)) return [query];
  if ([SESSION_ROOM_PREFIX, USER_ROOM_PREFIX, ENTITY_ROOM_PREFIX].some((p) => query.startsWith(p))) return [];
  const sessionRoom = sessionRoomId(query);
  return known.includes(sessionRoom) ? [sessionRoom] : [];
}

export type { Sample, RecentLogLine };
