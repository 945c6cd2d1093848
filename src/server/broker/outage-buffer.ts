/**
 * Publications an instance accepted while it could not reach the other instances: already
 * delivered to its own clients, kept in order for the others (and history) until Redis is back.
 * Bounded (WSS_OUTAGE_BUFFER): beyond it publications are counted, logged once per outage and
 * dropped.
 */
import type { Logger } from '../log.js';
import type { PublishRequest } from './broker.js';

export interface Buffered { request: PublishRequest; seq: number }

export class OutageBuffer {
  private items: Buffered[] = [];
  /** Dropped since start (buffer full), and replayed to Redis since start. */
  dropped = 0;
  replayed = 0;
  private droppedThisOutage = 0;

  constructor(private readonly limit: number, private readonly log: Logger) {}

  get size(): number {
    return this.items.length;
  }

  /**
   * Kept in sequence order (the order the origin accepted them), whatever order they fail in.
   * Returns false when the buffer is full and `item` was dropped.
   */
  push(item: Buffered): boolean {
    if (this.items.length < this.limit) {
      let at = this.items.length;
      while (at > 0 && this.items[at - 1]!.seq > item.seq) at--;
      this.items.splice(at, 0, item);
      return true;
    }
    this.dropped += 1;
    if (this.droppedThisOutage++ === 0) {
      this.log.warn({ limit: this.limit }, 'outage buffer full (WSS_OUTAGE_BUFFER): further messages reach this instance\'s clients only');
    }
    return false;
  }

  /** The oldest `n`, left in the buffer until `remove` confirms them. */
  peek(n: number): Buffered[] {
    return this.items.slice(0, n);
  }

  remove(n: number): void {
    this.items.splice(0, n);
    this.replayed += n;
    if (this.items.length === 0 && this.droppedThisOutage > 0) {
      this.log.warn({ dropped: this.droppedThisOutage }, 'outage buffer replayed; messages beyond its bound reached this instance only');
      this.droppedThisOutage = 0;
    }
  }
}
