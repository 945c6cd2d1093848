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
import { streamOf, targetOf, type HistoryEntry, type HistoryRead, type Publication, type StreamPosition } from './broker.js';

interface StreamState extends StreamPosition {
  seenAt: number;
  /** Publications waiting for a gap to be filled; null when none is being filled. */
  held: Ordered[] | null;
}

/** `silent`: only advance the stream (its origin delivered it already). */
interface Ordered { publication: Publication; silent: boolean }

/** A gap is read again for up to READ_ATTEMPTS × READ_RETRY_MS (10 s) before what arrived is delivered without it. */
const READ_ATTEMPTS = 50;
const READ_RETRY_MS = 200;

export type HistoryReader = (stream: string, since: number, limit: number) => Promise<HistoryRead>;

export class StreamOrder {
  private readonly streams = new Map<string, StreamState>();
  private readonly warnings: ThrottledLog;

  constructor(
    /** A kept publication this instance's clients already got (the origin's own, delivered while Redis was away). */
    private readonly alreadyHere: (entry: HistoryEntry) => boolean,
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

  /**
   * A publication without a position (accepted here while Redis was away): delivered at once,
   * unless its stream is held for a gap fill. Then it waits behind what is held, which was
   * accepted before it (the fill may wait for Redis to come back).
   */
  deliverNow(publication: Publication): void {
    this.order({ publication, silent: false });
  }

  private order(item: Ordered): void {
    const p = item.publication;
    const pos = p.position;
    const state = this.streams.get(pos ? pos.stream : streamOf(p.target));
    if (state?.held) {
      state.held.push(item);
      return;
    }
    if (!pos) {
      if (!item.silent) this.deliver(p);
      return;
    }
    if (!state) {
      this.remember(pos.stream, pos.offset, pos.epoch);
    } else if (state.epoch !== pos.epoch && pos.offset === 1) {
      this.remember(pos.stream, pos.offset, pos.epoch); // history was lost; a new epoch begins
    } else if (state.epoch === pos.epoch && pos.offset <= state.offset) {
      return; // already delivered here
    } else if (state.epoch === pos.epoch && pos.offset === state.offset + 1) {
      state.offset = pos.offset;
      state.seenAt = Date.now();
    } else {
      // Missing offsets (or the first ones of a new epoch): read them, hold the stream meanwhile.
      state.held = [item];
      void this.fill(pos.stream, state, pos);
      return;
    }
    if (!item.silent) this.deliver(p);
  }

  /**
   * Where a stream stood when it was read (a connection joined it): the baseline for catching up
   * on a stream this instance has delivered nothing of yet. Ignored when the stream is known.
   */
  baseline(stream: string, top: StreamPosition): void {
    if (!this.streams.has(stream)) this.remember(stream, top.offset, top.epoch);
  }

  /** Forget streams idle for longer than `idleMs` (their history is gone by then anyway). */
  sweep(idleMs: number, now = Date.now()): void {
    for (const [stream, state] of this.streams) if (!state.held && now - state.seenAt > idleMs) this.streams.delete(stream);
  }

  private remember(stream: string, offset: number, epoch: string): void {
    this.streams.set(stream, { offset, epoch, seenAt: Date.now(), held: null });
  }

  /**
   * After this instance's subscriber was away (Redis restarted, a network blip): read what each
   * stream with local members got meanwhile and deliver it, in order.
   */
  catchUp(hasMembers: (stream: string) => boolean): void {
    for (const [stream, state] of this.streams) {
      if (state.held || !hasMembers(stream)) continue;
      state.held = [];
      void this.fill(stream, state, null);
    }
  }

  /** A read retried while Redis is briefly away (the stream stays held meanwhile, so its order holds). */
  private async readPatiently(stream: string, since: number, limit: number): Promise<HistoryRead> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.read(stream, since, limit);
      } catch (err) {
        if (attempt >= READ_ATTEMPTS) throw err;
        await new Promise((resolve) => setTimeout(resolve, READ_RETRY_MS));
      }
    }
  }

  /** Deliver what history holds after `state` and before `upTo` (null: up to its top), then what was held. */
  private async fill(stream: string, state: StreamState, upTo: StreamPosition | null): Promise<void> {
    try {
      const sameEpoch = upTo === null || upTo.epoch === state.epoch;
      const since = sameEpoch ? state.offset : 0;
      const missing = upTo === null ? this.maxGap : upTo.offset - since - 1;
      if (missing > this.maxGap) throw new Error(`gap of ${missing} is beyond the kept history`);
      let read = await this.readPatiently(stream, since, missing);
      // Catching up and the stream is in a new epoch: all of that epoch is new here.
      if (upTo === null && read.top.epoch !== state.epoch && since > 0) read = await this.readPatiently(stream, 0, missing);
      const epoch = read.top.epoch;
      // The read is usable when it is in the epoch the stream is in here, or in the new epoch this instance has seen nothing of.
      if (epoch === (upTo?.epoch ?? epoch) && (epoch === state.epoch || since === 0 || upTo === null)) {
        const from = epoch === state.epoch ? state.offset : 0;
        for (const entry of read.publications) {
          if (entry.offset <= from || (upTo !== null && entry.offset >= upTo.offset)) continue;
          state.offset = entry.offset;
          state.epoch = epoch;
          if (this.alreadyHere(entry)) continue;
          const publication: Publication = { origin: entry.origin ?? '', target: targetOf(stream), frame: entry.frame, position: { stream, offset: entry.offset, epoch } };
          if (entry.exclude) publication.exclude = entry.exclude;
          this.deliver(publication);
        }
      }
    } catch (err) {
      this.warnings.warn({ stream: stream.slice(0, 16), err: (err as Error).message }, 'missing publications could not be read from history; delivering what arrived');
    }
    const held = state.held!;
    state.held = null;
    if (upTo !== null) {
      state.epoch = upTo.epoch;
      state.offset = upTo.offset - 1;
    }
    for (const item of held) this.order(item);
  }
}
