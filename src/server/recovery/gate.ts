/**
 * A connection's view of the streams it is recovering. While the history of a stream is being
 * read, live publications of that stream are held (they would overtake the missed ones); once the
 * missed ones are sent, the held ones newer than them follow, and later live copies of what was
 * already sent are dropped until the first newer one passes. The relay asks only connections that
 * have a gate, so others pay one null check per delivery.
 */
import type { StreamPoint, StreamPosition } from '../broker/broker.js';
import type { PreparedFrame } from '../fanout.js';

interface HeldFrame { position: StreamPosition; prepared: PreparedFrame }
type StreamGate = { phase: 'reading'; held: HeldFrame[] } | { phase: 'sent'; upTo: StreamPosition };

/** Held frames per stream beyond this are dropped; the stream then reports `recovered: false`. */
const MAX_HELD = 10_000;

export class RecoveryGate {
  private readonly streams = new Map<string, StreamGate>();
  private readonly overflowed = new Set<string>();

  constructor(private readonly onEmpty: () => void) {}

  /** Start holding `stream`'s live publications. */
  hold(stream: string): void {
    this.streams.set(stream, { phase: 'reading', held: [] });
    this.overflowed.delete(stream);
  }

  /** True when the relay must not write this publication now (held or a duplicate). */
  intercept(point: StreamPoint, prepared: PreparedFrame): boolean {
    const gate = this.streams.get(point.stream);
    if (gate === undefined) return false;
    if (gate.phase === 'reading') {
      if (gate.held.length >= MAX_HELD) this.overflowed.add(point.stream);
      else gate.held.push({ position: { offset: point.offset, epoch: point.epoch }, prepared });
      return true;
    }
    if (point.epoch === gate.upTo.epoch && point.offset <= gate.upTo.offset) return true;
    this.done(point.stream);
    return false;
  }

  /**
   * The missed publications up to `upTo` were sent (or none could be): returns the held ones to
   * send now, in order, without those already sent. Later live duplicates are dropped.
   */
  release(stream: string, upTo: StreamPosition | null): { frames: PreparedFrame[]; overflowed: boolean } {
    const gate = this.streams.get(stream);
    const overflowed = this.overflowed.delete(stream);
    if (gate === undefined || gate.phase !== 'reading') return { frames: [], overflowed };
    let last = upTo;
    const frames: PreparedFrame[] = [];
    for (const { position, prepared } of gate.held) {
      if (last !== null && position.epoch === last.epoch && position.offset <= last.offset) continue;
      frames.push(prepared);
      last = position;
    }
    if (last === null) this.done(stream);
    else this.streams.set(stream, { phase: 'sent', upTo: last });
    return { frames, overflowed };
  }

  /** Stop filtering duplicates of streams already recovered (late copies can no longer come). */
  settle(): void {
    for (const [stream, gate] of this.streams) if (gate.phase === 'sent') this.done(stream);
  }

  private done(stream: string): void {
    this.streams.delete(stream);
    if (this.streams.size === 0) this.onEmpty();
  }
}
