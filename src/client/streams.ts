/**
 * Where the page stands in each stream (one per room, plus `broadcast`), and the recovery
 * bookkeeping of a reconnect (docs/protocol.md, "Recovery"). Pure state, no I/O: client.ts feeds it messages
 * and sends what it answers.
 *
 * A reconnected connection is back in its session room and `broadcast` from the handshake, so
 * live messages of those streams can arrive before the server has handled `recover` and before
 * the missed ones it then sends. Messages of the streams being recovered are therefore held from
 * the moment `recover` is sent until `recovery_result`, then released per stream in offset order
 * without duplicates.
 */
import type { JsonObject } from '../protocol/types.js';

export interface StreamPosition { offset: number; epoch: string }
export interface PositionedMessage extends StreamPosition { stream: string; message: JsonObject }

/** `detail` of `portico:recovered`. */
export interface RecoveredDetail { recovered: boolean; missed: number }
/** `detail` of `portico:resync`: also the ids of the streams that were not recovered. */
export interface ResyncDetail extends RecoveredDetail { streams: string[] }

interface Known extends StreamPosition {
  /**
   * Told by the server (a reply or a failed recovery), not taken from a delivered message: the
   * base of the next `recover`, but a live message at or below it was never shown to the page
   * and is not a duplicate.
   */
  told: boolean;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `{offset, epoch}` from the wire, or null when it is not one. */
function readPosition(value: unknown): StreamPosition | null {
  if (!isObject(value)) return null;
  const { offset, epoch } = value;
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0 || typeof epoch !== 'string') return null;
  return { offset, epoch };
}

/** The message's `stream_position`, or null when it is not part of a stream. */
export function streamPositionOf(message: JsonObject): PositionedMessage | null {
  const field = message.stream_position;
  const position = readPosition(field);
  if (!position || !isObject(field) || typeof field.stream !== 'string' || field.stream === '') return null;
  return { stream: field.stream, ...position, message };
}

export interface RecoveryOutcome {
  /** Held messages to dispatch now, in order. */
  release: JsonObject[];
  detail: RecoveredDetail;
  /** Streams that were not recovered (empty when `detail.recovered`). */
  lost: string[];
}

export class StreamPositions {
  private readonly known = new Map<string, Known>();
  /** Streams named in the `recover` awaiting its result; null when none is outstanding. */
  private recovering: Set<string> | null = null;
  private held: PositionedMessage[] = [];

  /** A copy of the last position per stream. */
  snapshot(): Record<string, StreamPosition> {
    const out: Record<string, StreamPosition> = {};
    for (const [stream, { offset, epoch }] of this.known) out[stream] = { offset, epoch };
    return out;
  }

  get isRecovering(): boolean {
    return this.recovering !== null;
  }

  /**
   * An incoming stream message: `hold` (recovery outstanding), `duplicate` (already shown: drop
   * it) or `deliver` (its position is now remembered).
   */
  accept(pm: PositionedMessage): 'hold' | 'duplicate' | 'deliver' {
    if (this.recovering?.has(pm.stream)) {
      this.held.push(pm);
      return 'hold';
    }
    return this.take(pm) ? 'deliver' : 'duplicate';
  }

  /** Positions the server reports for streams just joined (`stream_positions`): kept only where none is known. */
  seed(value: unknown): void {
    if (!isObject(value)) return;
    for (const [stream, raw] of Object.entries(value)) {
      const position = readPosition(raw);
      if (position && !this.known.has(stream)) this.known.set(stream, { ...position, told: true });
    }
  }

  forget(stream: string): void {
    this.known.delete(stream);
  }

  /** Start a recovery: the `streams` field of `recover`, for the streams `wanted` keeps. */
  beginRecovery(wanted: (stream: string) => boolean): Record<string, StreamPosition> {
    const streams: Record<string, StreamPosition> = {};
    for (const [stream, { offset, epoch }] of this.known) if (wanted(stream)) streams[stream] = { offset, epoch };
    this.recovering = new Set(Object.keys(streams));
    this.held = [];
    return streams;
  }

  /** The `recovery_result` arrived: update positions and release what was held. */
  finish(result: JsonObject): RecoveryOutcome {
    const perStream = isObject(result.streams) ? result.streams : {};
    const lost: string[] = [];
    for (const stream of this.recovering ?? []) {
      const answer = perStream[stream];
      if (isObject(answer) && answer.recovered === true) continue;
      lost.push(stream);
      if (isObject(answer) && answer.reason === 'not_member') {
        this.known.delete(stream);
        continue;
      }
      // Start the next recovery from where the stream is now (possibly a new epoch).
      const now = readPosition(answer);
      if (now) this.known.set(stream, { ...now, told: true });
    }
    const missed = typeof result.missed === 'number' && result.missed >= 0 ? result.missed : 0;
    const recovered = result.recovered === true && lost.length === 0;
    return { release: this.release(), detail: { recovered, missed }, lost };
  }

  /** No result (timeout): release what was held; nothing is known to be recovered. */
  giveUp(): RecoveryOutcome {
    const lost = [...(this.recovering ?? [])];
    return { release: this.release(), detail: { recovered: false, missed: 0 }, lost };
  }

  /**
   * The connection dropped before the result: drop the held messages. Their positions were
   * never taken, so the next `recover` asks for them again.
   */
  abort(): void {
    this.recovering = null;
    this.held = [];
  }

  /**
   * Held messages in arrival order, except that each stream's messages are put in offset order
   * in the places that stream's messages held (live ones may have overtaken the missed ones).
   */
  private release(): JsonObject[] {
    const held = this.held;
    this.abort();
    const byStream = new Map<string, PositionedMessage[]>();
    for (const pm of held) {
      const list = byStream.get(pm.stream);
      if (list) list.push(pm);
      else byStream.set(pm.stream, [pm]);
    }
    for (const list of byStream.values()) list.sort((a, b) => (a.epoch === b.epoch ? a.offset - b.offset : 0));
    const out: JsonObject[] = [];
    for (const pm of held) {
      const next = byStream.get(pm.stream)!.shift()!;
      if (this.take(next)) out.push(next.message);
    }
    return out;
  }

  /** Remember the message's position; false when it was already shown. */
  private take(pm: PositionedMessage): boolean {
    const known = this.known.get(pm.stream);
    if (known && known.epoch === pm.epoch && pm.offset <= known.offset) {
      if (!known.told) return false;
      // At or below a position the server told us about: new to the page. A stream arrives in
      // offset order, so once the told offset itself is shown, what follows is checked again.
      if (pm.offset === known.offset) known.told = false;
      return true;
    }
    this.known.set(pm.stream, { offset: pm.offset, epoch: pm.epoch, told: false });
    return true;
  }
}
