/**
 * A connection's view of its streams around a `recover`. From the handshake until its recover
 * (or `WATCH_MS`), it notes per stream the first and last live publication the connection got:
 * those need not be sent again (the client puts a live one that overtook the missed ones back in
 * order, docs/protocol.md, "Recovery"). While a stream's history is read, its live publications are held
 * (they would overtake the missed ones); once the missed ones are sent, the held ones newer than
 * them follow, and later live copies of what was sent are dropped until a newer one passes. The
 * relay asks only connections that have a gate, so others pay one null check per delivery.
 */
import type { StreamPoint, StreamPosition } from '../broker/broker.js';
import type { PreparedFrame } from '../fanout.js';

interface HeldFrame { position: StreamPosition; prepared: PreparedFrame }
/** Live publications the connection got before its recover: the first and the last. */
export interface LiveSpan { first: StreamPosition; last: StreamPosition }
type StreamGate =
  | { phase: 'watch'; live: LiveSpan }
  | { phase: 'reading'; live: LiveSpan | null; held: HeldFrame[] }
  | { phase: 'sent'; upTo: StreamPosition };

/** How long after the handshake live publications are noted for a coming `recover`. */
export const WATCH_MS = 10_000;
/** Held frames per stream beyond this are dropped; the stream then reports `recovered: false`. */
const MAX_HELD = 10_000;

/** What a gate belongs to: the gate clears this field once it has nothing left to do. */
export interface GateOwner { gate: RecoveryGate | null }

const NO_STREAMS: ReadonlyMap<string, StreamGate> = new Map();

export class RecoveryGate {
  /**
   * Allocated with the first stream noted: every new connection has a gate for its watch time,
   * most never get a publication with a position in it (memory per idle connection).
   */
  private streams: Map<string, StreamGate> | null = null;
  private overflowed: Set<string> | null = null;
  private watching: boolean;

  constructor(private readonly owner: GateOwner, watch: boolean) {
    this.watching = watch;
  }

  private get noted(): ReadonlyMap<string, StreamGate> {
    return this.streams ?? NO_STREAMS;
  }

  private note(stream: string, gate: StreamGate): void {
    (this.streams ??= new Map()).set(stream, gate);
  }

  /** True when the relay must not write this publication now (held or a duplicate). */
  intercept(point: StreamPoint, prepared: PreparedFrame): boolean {
    // The point is the publication's own, shared by every recipient: noted as is, not copied
    // (this runs once per delivery for every connection still in its watch time).
    const gate = this.noted.get(point.stream);
    if (gate === undefined) {
      if (this.watching) this.note(point.stream, { phase: 'watch', live: { first: point, last: point } });
      return false;
    }
    switch (gate.phase) {
      case 'watch':
        gate.live.last = point;
        return false;
      case 'reading':
        if (gate.held.length >= MAX_HELD) (this.overflowed ??= new Set()).add(point.stream);
        else gate.held.push({ position: point, prepared });
        return true;
      case 'sent':
        if (point.epoch === gate.upTo.epoch && point.offset <= gate.upTo.offset) return true;
        this.done(point.stream);
        return false;
    }
  }

  /** Start holding `stream`'s live publications; returns what the connection already got live. */
  hold(stream: string): LiveSpan | null {
    const gate = this.noted.get(stream);
    const live = gate?.phase === 'watch' ? gate.live : null;
    this.note(stream, { phase: 'reading', live, held: [] });
    this.overflowed?.delete(stream);
    return live;
  }

  /**
   * The missed publications up to `upTo` were sent (or, null, none could be): returns the held
   * ones to send now, in order, without those already sent. Later live duplicates are dropped.
   */
  release(stream: string, upTo: StreamPosition | null): { frames: PreparedFrame[]; overflowed: boolean } {
    const gate = this.noted.get(stream);
    const overflowed = this.overflowed?.delete(stream) ?? false;
    if (gate === undefined || gate.phase !== 'reading') return { frames: [], overflowed };
    let last = upTo;
    const frames: PreparedFrame[] = [];
    for (const { position, prepared } of gate.held) {
      if (last !== null && position.epoch === last.epoch && position.offset <= last.offset) continue;
      frames.push(prepared);
      last = position;
    }
    if (last === null) this.done(stream);
    else this.note(stream, { phase: 'sent', upTo: last });
    return { frames, overflowed };
  }

  /** Stop noting live publications (the recover came, or the watch time is over). */
  stopWatching(): void {
    this.watching = false;
    for (const [stream, gate] of this.noted) if (gate.phase === 'watch') this.done(stream);
    this.checkEmpty();
  }

  /** Stop filtering duplicates of streams already recovered (late copies can no longer come). */
  settle(): void {
    for (const [stream, gate] of this.noted) if (gate.phase === 'sent') this.done(stream);
    this.checkEmpty();
  }

  private done(stream: string): void {
    this.streams?.delete(stream);
    this.checkEmpty();
  }

  private checkEmpty(): void {
    if (this.noted.size === 0 && !this.watching && this.owner.gate === this) this.owner.gate = null;
  }
}
