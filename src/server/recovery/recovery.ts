/**
 * The server side of `recover` (docs/protocol.md, "Recovery"): for each stream the connection names, and is a
 * member of, send the publications it missed in offset order, then the live ones that raced the
 * history read, with no gap and no duplicate; answer what could not be recovered, and why.
 * The connection is already a member (its frames are handled in order, so the `subscribe`s sent
 * before `recover` are done), so live publications flow while history is read: the gate holds
 * them meanwhile. History is never read for a stream the connection is not in.
 */
import { BROADCAST_STREAM, targetOf, type Broker, type HistoryRead, type StreamPoint, type StreamPosition } from '../broker/broker.js';
import { Limiter } from '../broker/limiter.js';
import type { Connection } from '../connection.js';
import { prepareFrame } from '../fanout.js';
import type { Logger } from '../log.js';
import { now } from '../messages.js';
import type { RoomRegistry } from '../rooms.js';
import { DeadlineQueue } from './deadline-queue.js';
import { RecoveryGate, WATCH_MS, type LiveSpan } from './gate.js';

export type RecoveryReason = 'not_member' | 'epoch_changed' | 'window_passed' | 'unavailable';

export interface StreamRecovery extends StreamPosition { recovered: boolean; missed: number; reason?: RecoveryReason }

export interface RecoveryResult {
  type: 'recovery_result';
  recovered: boolean;
  missed: number;
  streams: Record<string, StreamRecovery>;
  timestamp: string;
}

/** Longest one read of a stream's top is waited for; then the stream is left out (a greeting waits for at most two reads). */
const POSITIONS_TIMEOUT_MS = 500;
/** A read's word on how long an epoch stands is trusted for this much less (the read's own latency, clocks). */
const EPOCH_MARGIN_MS = 1000;
/** How long after a recovery late live duplicates of recovered publications are still filtered. */
const SETTLE_MS = 5000;

export class Recovery {
  private readonly limiter: Limiter;
  private readonly watchEnds = new DeadlineQueue<RecoveryGate>(WATCH_MS, (gate) => gate.stopWatching());
  private readonly settles = new DeadlineQueue<RecoveryGate>(SETTLE_MS, (gate) => gate.settle());
  /** Per stream, the top read the greetings since the last one began wait for (not sent yet). */
  private readonly nextTopReads = new Map<string, Promise<StreamPosition | null>>();
  /** Per stream, the top read under way. */
  private readonly topReadsUnderWay = new Map<string, Promise<StreamPosition | null>>();
  /**
   * What this instance knows of the `broadcast` stream, which every greeting needs: its top as
   * last read, until when that read's epoch is known to stand, and the last publication delivered
   * here since (broadcast is delivered to every connection, so nothing newer has reached one).
   */
  private broadcastRead: { top: StreamPosition; until: number } | null = null;
  private broadcastDelivered: StreamPosition | null = null;
  /** Bumped when what was known may no longer hold (Redis went away or came back). */
  private generation = 0;

  constructor(
    private readonly broker: Broker,
    private readonly rooms: RoomRegistry,
    private readonly historySize: number,
    concurrency: number,
    private readonly log: Logger,
    private readonly onRecovered: (recovered: boolean, missed: number) => void = () => {},
  ) {
    this.limiter = new Limiter(concurrency);
  }

  /** History reads queued behind the concurrency bound (a reconnect storm). */
  get waiting(): number {
    return this.limiter.waiting;
  }

  /** A new connection: note what it gets live until its `recover` comes (gate.ts). */
  watch(conn: Connection): void {
    if (!this.broker.historyEnabled) return;
    this.watchEnds.add(this.gateOf(conn, true));
  }

  /**
   * Where `streams` stand now, for a connection that just joined them (docs/protocol.md, "Recovery"
   * `stream_positions`); undefined without history, a stream left out when it cannot be read.
   */
  async positions(streams: string[]): Promise<Record<string, StreamPosition> | undefined> {
    if (!this.broker.historyEnabled) return undefined;
    const tops = await Promise.all(streams.map((s) => (s === BROADCAST_STREAM ? this.knownBroadcastTop() : null) ?? this.topAfterJoin(s)));
    const out: Record<string, StreamPosition> = {};
    streams.forEach((s, i) => { const top = tops[i]; if (top) out[s] = top; });
    return out;
  }

  /**
   * The stream's top, read after the caller joined it, so no caller gets a position from before
   * it was a member. One read serves every caller that joined before it began: it starts in the
   * next turn, and not before the stream's read under way has come back, so a burst of handshakes
   * asks for `broadcast` about once per Redis round trip, not once per connection or per turn.
   * A caller waits at most for the read under way and its own (each bounded by the timeout).
   */
  private topAfterJoin(stream: string): Promise<StreamPosition | null> {
    let read = this.nextTopReads.get(stream);
    if (read === undefined) {
      const underWay = this.topReadsUnderWay.get(stream);
      read = (underWay === undefined ? nextTurn() : underWay.then(nextTurn)).then(() => {
        this.nextTopReads.delete(stream);
        const top = this.readTop(stream);
        this.topReadsUnderWay.set(stream, top);
        void top.then(() => {
          if (this.topReadsUnderWay.get(stream) === top) this.topReadsUnderWay.delete(stream);
        });
        return top;
      });
      this.nextTopReads.set(stream, read);
    }
    return read;
  }

  /** A publication delivered on this instance (every one passes here, in stream order). */
  noteDelivered(point: StreamPoint): void {
    if (point.stream !== BROADCAST_STREAM) return;
    const last = this.broadcastDelivered;
    if (last !== null && last.epoch === point.epoch && last.offset >= point.offset) return;
    this.broadcastDelivered = { offset: point.offset, epoch: point.epoch };
  }

  /** Redis went away or came back: its streams may have started again in new epochs. */
  forgetKnownTops(): void {
    this.generation += 1;
    this.broadcastRead = null;
    this.broadcastDelivered = null;
  }

  /**
   * `broadcast`'s top for a connection that joined just now, without a read: the last read's top,
   * or the last publication delivered here since if it is newer, while the read's epoch stands.
   * Every later publication reaches the connection live, as it would after a read of its own.
   */
  private knownBroadcastTop(): StreamPosition | null {
    const read = this.broadcastRead;
    if (read === null) return null;
    if (Date.now() >= read.until) {
      this.broadcastRead = null;
      return null;
    }
    const delivered = this.broadcastDelivered;
    if (delivered === null || (delivered.epoch === read.top.epoch && delivered.offset <= read.top.offset)) return read.top;
    if (delivered.epoch === read.top.epoch) return delivered;
    this.broadcastRead = null; // a publication in another epoch: the stream started again
    return null;
  }

  private rememberBroadcastRead(read: HistoryRead, sentAt: number, generation: number): void {
    if (generation !== this.generation || read.epochKeptMs === undefined) return;
    // A delivery in another epoch may be older or newer than the read: which one, nothing says.
    const delivered = this.broadcastDelivered;
    if (delivered !== null && delivered.epoch !== read.top.epoch) return;
    const until = sentAt + read.epochKeptMs - EPOCH_MARGIN_MS;
    if (until > Date.now()) this.broadcastRead = { top: read.top, until };
  }

  /** A hung Redis must not hold a greeting back: after the timeout the stream is left out. */
  private readTop(stream: string): Promise<StreamPosition | null> {
    const sentAt = Date.now();
    const generation = this.generation;
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), POSITIONS_TIMEOUT_MS).unref();
      this.broker.history(stream, Number.MAX_SAFE_INTEGER, 0).then((r) => {
        if (stream === BROADCAST_STREAM) this.rememberBroadcastRead(r, sentAt, generation);
        return r.top;
      }, () => null).then((top) => {
        clearTimeout(timer);
        resolve(top);
      });
    });
  }

  async recover(conn: Connection, requested: Record<string, StreamPosition>): Promise<RecoveryResult> {
    const streams: Record<string, StreamRecovery> = {};
    const wanted: Array<[string, StreamPosition]> = [];
    for (const [stream, position] of Object.entries(requested)) {
      if (!this.isMember(conn, stream)) streams[stream] = { recovered: false, missed: 0, reason: 'not_member', offset: 0, epoch: '' };
      else if (!this.broker.historyEnabled) streams[stream] = { recovered: false, missed: 0, reason: 'unavailable', offset: 0, epoch: '' };
      else wanted.push([stream, position]);
    }
    const gate = this.gateOf(conn, false);
    const live = wanted.map(([stream]) => gate.hold(stream));
    gate.stopWatching();
    const reads = await Promise.all(wanted.map(([stream, position]) =>
      this.limiter.run(() => this.broker.history(stream, position.offset, this.historySize)).catch((err: Error) => err)));
    let missed = 0;
    wanted.forEach(([stream, position], i) => {
      const read = reads[i]!;
      const outcome = read instanceof Error ? null : judge(position, read, live[i] ?? null);
      if (read instanceof Error) this.log.debug({ err: read.message }, 'history unreadable for recover');
      let upTo: StreamPosition | null = null;
      if (outcome !== null && !(read instanceof Error) && outcome.recovered) {
        for (const entry of outcome.missed) conn.sendPrepared(prepareFrame(entry.frame));
        upTo = { offset: read.top.offset, epoch: read.top.epoch };
      }
      const released = gate.release(stream, upTo);
      for (const frame of released.frames) conn.sendPrepared(frame);
      const top = read instanceof Error ? position : read.top;
      if (outcome === null || released.overflowed) {
        streams[stream] = { recovered: false, missed: 0, reason: 'unavailable', offset: top.offset, epoch: top.epoch };
      } else if (!outcome.recovered) {
        streams[stream] = { recovered: false, missed: 0, reason: outcome.reason, offset: top.offset, epoch: top.epoch };
      } else {
        streams[stream] = { recovered: true, missed: outcome.missed.length, offset: top.offset, epoch: top.epoch };
        missed += outcome.missed.length;
      }
    });
    this.settles.add(gate);
    const recovered = this.broker.historyEnabled && Object.values(streams).every((s) => s.recovered);
    this.onRecovered(recovered, missed);
    return { type: 'recovery_result', recovered, missed, streams, timestamp: now() };
  }

  private gateOf(conn: Connection, watch: boolean): RecoveryGate {
    if (conn.gate !== null) return conn.gate;
    const gate = new RecoveryGate(conn, watch);
    conn.gate = gate;
    return gate;
  }

  /** `broadcast` reaches every connection; any other stream only its room's members. */
  private isMember(conn: Connection, stream: string): boolean {
    if (stream === BROADCAST_STREAM) return true;
    const target = targetOf(stream);
    return target.kind === 'room' && this.rooms.isMember(conn, target.roomId);
  }
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

type Judgement = { recovered: true; missed: HistoryRead['publications'] } | { recovered: false; reason: RecoveryReason };

/**
 * Can the client at `position` be brought to `read.top` from what history keeps? It needs every
 * offset after its own up to the top, except those it already got live since it reconnected.
 */
function judge(position: StreamPosition, read: HistoryRead, live: LiveSpan | null): Judgement {
  const { top, publications } = read;
  if (position.epoch !== top.epoch || position.offset > top.offset) return { recovered: false, reason: 'epoch_changed' };
  // Publications lost after `lostAfter` (outage buffer overflow) may be among what this client missed.
  if (read.lostAfter !== undefined && position.offset < read.lostAfter) return { recovered: false, reason: 'window_passed' };
  const from = position.offset + 1;
  // The offsets needed: [from, top], less the live span [first, last] when it is in this epoch.
  const ranges: Array<[number, number]> = live !== null && live.first.epoch === top.epoch
    ? [[from, Math.min(top.offset, live.first.offset - 1)], [Math.max(from, live.last.offset + 1), top.offset]]
    : [[from, top.offset]];
  const kept = new Map(publications.map((p) => [p.offset, p]));
  const missed: HistoryRead['publications'] = [];
  for (const [low, high] of ranges) {
    if (high - low + 1 > kept.size) return { recovered: false, reason: 'window_passed' };
    for (let offset = low; offset <= high; offset++) {
      const entry = kept.get(offset);
      if (entry === undefined) return { recovered: false, reason: 'window_passed' };
      missed.push(entry);
    }
  }
  return { recovered: true, missed };
}
