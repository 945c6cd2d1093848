/**
 * Single-node broker: a publish is a local delivery, and each stream keeps its last `size`
 * publications in memory for `ttlMs`. A stream forgotten (expired, or the process restarted)
 * starts again with a new epoch. The embedded default.
 */
import {
  streamOf, withPosition,
  type Broker, type BrokerStatusListener, type IngestClaim, type DeliverFn, type HistoryEntry, type HistoryRead, type OutageStats,
  type PublishRequest, type StreamPosition,
} from './broker.js';
import { newEpoch, type HistorySettings } from './history-settings.js';

interface MemoryStream {
  epoch: string;
  offset: number;
  entries: HistoryEntry[];
  /** When the publications are forgotten / when the offset and epoch are. */
  entriesUntil: number;
  metaUntil: number;
}

export class MemoryBroker implements Broker {
  readonly status = 'disabled' as const;
  private deliver: DeliverFn | null = null;
  private readonly streams = new Map<string, MemoryStream>();
  private sweep: NodeJS.Timeout | null = null;

  constructor(private readonly instanceId: string, private readonly settings: HistorySettings, private readonly clock: () => number = Date.now) {}

  get historyEnabled(): boolean {
    return this.settings.size > 0;
  }

  async start(deliver: DeliverFn): Promise<void> {
    this.deliver = deliver;
    if (this.historyEnabled) {
      this.sweep = setInterval(() => this.forgetExpired(), Math.min(this.settings.ttlMs, 60_000));
      this.sweep.unref();
    }
  }

  async publish(request: PublishRequest): Promise<StreamPosition | null> {
    const { target, frame, exclude, ingressAt, type } = request;
    if (!this.historyEnabled) {
      this.deliver?.({ origin: this.instanceId, target, frame, exclude, ingressAt, type });
      return null;
    }
    const name = streamOf(target);
    const stream = this.live(name, true)!;
    const now = this.clock();
    stream.offset += 1;
    const point = { stream: name, offset: stream.offset, epoch: stream.epoch };
    const positioned = withPosition(frame, point);
    stream.entries.push({ offset: stream.offset, frame: positioned });
    if (stream.entries.length > this.settings.size) stream.entries.shift();
    stream.entriesUntil = now + this.settings.ttlMs;
    stream.metaUntil = now + this.settings.metaTtlMs;
    this.deliver?.({ origin: this.instanceId, target, frame: positioned, exclude, ingressAt, type, position: point });
    return { offset: point.offset, epoch: point.epoch };
  }

  /** A single instance is always the one. */
  async claim(_claim: IngestClaim): Promise<boolean> {
    return true;
  }

  async history(name: string, since: number, limit: number): Promise<HistoryRead> {
    if (!this.historyEnabled) throw new Error('history is off (WSS_HISTORY_SIZE=0)');
    const stream = this.live(name, true)!;
    const publications = stream.entries.filter((e) => e.offset > since).slice(0, Math.max(0, limit));
    return { top: { offset: stream.offset, epoch: stream.epoch }, publications, epochKeptMs: stream.metaUntil - this.clock() };
  }

  outage(): OutageStats {
    return { buffered: 0, dropped: 0, replayed: 0 };
  }

  /** Publications are delivered before `publish` returns: nothing is ever on its way. */
  expectingOwnBroadcasts(): boolean {
    return false;
  }

  /** The memory broker never changes status. */
  onStatusChange(_listener: BrokerStatusListener): void {}

  async close(): Promise<void> {
    if (this.sweep) clearInterval(this.sweep);
    this.deliver = null;
  }

  /** Drop everything kept, as a Redis FLUSHALL would (tests). */
  forgetAll(): void {
    this.streams.clear();
  }

  /** The stream as it stands now (expired parts forgotten); created with a new epoch when asked to. */
  private live(name: string, create: boolean): MemoryStream | undefined {
    const now = this.clock();
    let stream = this.streams.get(name);
    if (stream && stream.metaUntil <= now) {
      this.streams.delete(name);
      stream = undefined;
    }
    if (stream && stream.entriesUntil <= now) stream.entries = [];
    if (!stream && create) {
      stream = { epoch: newEpoch(), offset: 0, entries: [], entriesUntil: now + this.settings.ttlMs, metaUntil: now + this.settings.metaTtlMs };
      this.streams.set(name, stream);
    }
    return stream;
  }

  private forgetExpired(): void {
    for (const name of [...this.streams.keys()]) this.live(name, false);
  }
}
