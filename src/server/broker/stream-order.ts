/**
 * Keeps every stream this instance delivers whole and in offset order, whatever happened to the
 * PUBLISH that carried it (a subscriber reconnecting, a publication replayed after an outage, a
 * Redis frozen and thawed). Per stream it remembers the last delivered position: an older or equal
 * offset in the same epoch is a duplicate and dropped; a jump over missing offsets holds the
 * stream's publications while the missing ones are read from history, then delivers them all in
 * order. Cost per publication: one Map look-up, none per recipient.
 */
import type { Logger } from '../log.js';
import { ThrottledLog } from '../redis/throttled-log.js';
import { isOwnEcho, targetOf, type HistoryRead, type Publication, type StreamPosition } from './broker.js';

interface StreamState extends StreamPosition {
  seenAt: number;
  /** Publications waiting for a gap to be filled; null when none is being filled. */
  held: Ordered[] | null;
}

/** `silent`: only advance the stream (its origin delivered it already). */
interface Ordered { publication: Publication; silent: boolean }

export type HistoryReader = (stream: string, since: number, limit: number) => Promise<HistoryRead>;

export class StreamOrder {
  private readonly streams = new Map<string, StreamState>();
  private readonly warnings: ThrottledLog;

  constructor(
    private readonly instanceId: string,
    private readonly read: HistoryReader,
    private readonly deliver: (p: Publication) => void,
    private readonly maxGap: number,
    log: Logger,
  ) {
    this.warnings = new ThrottledLog(log);
  }

  /** A publication from the shared channel: delivered in its stream's order, once. */
  accept(publication: Publication): void {
    this.order({ publication, silent: false });
  }

  /** A publication this instance's own clients already had: only moves its stream's position on. */
  advance(publication: Publication): void {
    this.order({ publication, silent: true });
  }

  private order(item: Ordered): void {
    const p = item.publication;
    const pos = p.position;
    if (!pos) {
      if (!item.silent) this.deliver(p);
      return;
    }
    const state = this.streams.get(pos.stream);
    if (state?.held) {
      state.held.push(item);
      return;
    }
    if (!state || state.epoch !== pos.epoch) {
      this.remember(pos.stream, pos.offset, pos.epoch);
    } else if (pos.offset <= state.offset) {
      return; // already delivered here
    } else if (pos.offset === state.offset + 1) {
      state.offset = pos.offset;
      state.seenAt = Date.now();
    } else {
      state.held = [item];
      void this.fill(pos.stream, state);
      return;
    }
    if (!item.silent) this.deliver(p);
  }

  /** Forget streams idle for longer than `idleMs` (their history is gone by then anyway). */
  sweep(idleMs: number, now = Date.now()): void {
    for (const [stream, state] of this.streams) if (!state.held && now - state.seenAt > idleMs) this.streams.delete(stream);
  }

  private remember(stream: string, offset: number, epoch: string): void {
    this.streams.set(stream, { offset, epoch, seenAt: Date.now(), held: null });
  }

  private async fill(stream: string, state: StreamState): Promise<void> {
    const first = state.held![0]!.publication.position!;
    const missing = first.offset - state.offset - 1;
    try {
      if (missing > this.maxGap) throw new Error(`gap of ${missing} is beyond the kept history`);
      const read = await this.read(stream, state.offset, missing);
      if (read.top.epoch === state.epoch) {
        for (const entry of read.publications) {
          if (entry.offset <= state.offset || entry.offset >= first.offset) continue;
          state.offset = entry.offset;
          if (isOwnEcho(entry.origin ?? '', entry.deliveredAtOrigin ?? false, this.instanceId)) continue;
          const publication: Publication = { origin: entry.origin ?? '', target: targetOf(stream), frame: entry.frame, position: { stream, offset: entry.offset, epoch: state.epoch } };
          if (entry.exclude) publication.exclude = entry.exclude;
          this.deliver(publication);
        }
      }
    } catch (err) {
      this.warnings.warn({ stream: stream.slice(0, 16), err: (err as Error).message }, 'missing publications could not be read from history; delivering what arrived');
    }
    const held = state.held!;
    state.held = null;
    state.epoch = first.epoch;
    state.offset = first.offset - 1;
    for (const item of held) this.order(item);
  }
}
