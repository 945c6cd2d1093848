/**
 * The whole cluster as the instance the browser reached sees it: asks every instance over the
 * cluster channel and remembers who answered, so an instance that stops answering is listed as
 * `not answering` (with what it said last) until it has been silent for `forgetAfterMs`.
 */
import type { ClusterAnswer, ClusterChannel } from '../cluster/channel.js';
import type { InstanceSnapshot } from './instance.js';

export type InstanceStatus = 'ok' | 'degraded' | 'not answering';

export interface InstanceView extends Partial<Omit<InstanceSnapshot, 'status'>> {
  id: string;
  status: InstanceStatus;
  /** ms since epoch of the last answer. */
  lastAnswerAt: number;
}

export interface Gathered<T> {
  /** Instance id → its answer body, for those that answered in time. */
  answers: Map<string, T>;
  /** Known instances that did not answer in time (or answered with an error). */
  missing: string[];
}

export interface ClusterViewOptions {
  /** How long an instance has to answer (WSS_ADMIN_TIMEOUT_MS). */
  timeoutMs: number;
  /** A silent instance is dropped from the list after this. */
  forgetAfterMs: number;
}

/** How long every ask keeps listening for instances not known yet (one round trip over Redis is far less). */
const DISCOVERY_MS = 250;

export class ClusterView {
  private readonly known = new Map<string, { lastAnswerAt: number; snapshot: InstanceSnapshot | null }>();

  constructor(private readonly channel: ClusterChannel, private readonly opts: ClusterViewOptions) {}

  /** Ask every instance (or `to`); answers from instances not seen before are welcome too. */
  async gather<T>(kind: string, body?: unknown, to?: string): Promise<Gathered<T>> {
    const now = Date.now();
    for (const [id, k] of this.known) if (now - k.lastAnswerAt > this.opts.forgetAfterMs) this.known.delete(id);
    const expect = new Set([...this.known.keys()].filter((id) => id !== this.channel.instanceId));
    const settleMs = Math.min(DISCOVERY_MS, this.opts.timeoutMs);
    const answers = await this.channel.ask({ kind, body, to }, { timeoutMs: this.opts.timeoutMs, expect, settleMs });
    const result = new Map<string, T>();
    for (const a of answers) {
      this.remember(a);
      if (a.ok) result.set(a.from, a.body as T);
    }
    const asked = to !== undefined ? [to] : [this.channel.instanceId, ...expect];
    return { answers: result, missing: asked.filter((id) => !result.has(id)) };
  }

  /** Every instance: those that answered now with their snapshot, the rest as not answering. */
  async instances(): Promise<InstanceView[]> {
    const { answers } = await this.gather<InstanceSnapshot>('snapshot');
    const views: InstanceView[] = [];
    for (const [id, snapshot] of answers) {
      const k = this.known.get(id);
      if (k) k.snapshot = snapshot;
      views.push({ ...snapshot, id, status: snapshot.status, lastAnswerAt: k?.lastAnswerAt ?? Date.now() });
    }
    for (const [id, k] of this.known) {
      if (answers.has(id)) continue;
      views.push({ ...(k.snapshot ?? {}), id, status: 'not answering', lastAnswerAt: k.lastAnswerAt });
    }
    return views.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  private remember(answer: ClusterAnswer): void {
    if (!answer.ok) return; // an error is not a sign of health; the instance keeps its last time
    const k = this.known.get(answer.from);
    if (k) k.lastAnswerAt = Date.now();
    else this.known.set(answer.from, { lastAnswerAt: Date.now(), snapshot: null });
  }
}
