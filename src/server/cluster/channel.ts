/**
 * Request/response between gateway instances, for the admin view: one instance asks every live
 * instance (or one addressed instance) a question and gathers the answers that arrive within a
 * timeout. Its own seam, independent of the bus that carries deliveries: the memory channel
 * joins instances in one process (tests, single node), the Redis channel spans processes over
 * pub/sub on channels of its own. The asking instance answers itself directly (no round trip),
 * so it is always listed, even while Redis is down.
 */
import { randomBytes } from 'node:crypto';

/** What one instance asks: a kind the responders know, a JSON body, optionally one addressee. */
export interface ClusterRequest {
  kind: string;
  body?: unknown;
  /** Instance id; omitted asks every instance. */
  to?: string;
}

/** One instance's answer: its body, or the message of the error its responder threw. */
export type ClusterAnswer = { from: string; ok: true; body: unknown } | { from: string; ok: false; error: string };

/** Answers a request on this instance. A throw becomes an `ok: false` answer. */
export type ClusterResponder = (kind: string, body: unknown) => unknown | Promise<unknown>;

export interface AskOptions {
  timeoutMs: number;
  /** Resolve as soon as each of these instances answered (the ones known to be alive), not at the timeout. */
  expect?: ReadonlySet<string>;
  /**
   * Even when the expected ones answered, keep gathering until this long after asking, so an
   * instance that just joined (not expected yet) is heard too. Default 0.
   */
  settleMs?: number;
}

export interface ClusterChannel {
  readonly instanceId: string;
  /** Begin answering requests (and receiving answers). */
  start(respond: ClusterResponder): Promise<void>;
  /** The answers that arrived within the timeout, this instance's own first. Never rejects. */
  ask(request: ClusterRequest, options: AskOptions): Promise<ClusterAnswer[]>;
  close(): Promise<void>;
}

/** The messages on the wire between instances. */
export type ClusterWireMessage =
  | { t: 'req'; id: string; from: string; to?: string; kind: string; body?: unknown }
  | { t: 'res'; id: string; from: string; ok: boolean; body?: unknown; error?: string };

interface Pending {
  answers: ClusterAnswer[];
  expect: ReadonlySet<string> | undefined;
  to: string | undefined;
  /** Not complete before this time (ms since epoch). */
  settleUntil: number;
  settleTimer: NodeJS.Timeout | null;
  done: () => void;
}

/**
 * What both channels share: pending requests with their timeouts, answering this instance
 * directly, and answering requests that arrive. Subclasses only move wire messages.
 */
export abstract class ClusterChannelBase implements ClusterChannel {
  private respond: ClusterResponder | null = null;
  private readonly pending = new Map<string, Pending>();
  private readonly nonce = randomBytes(6).toString('hex');
  private seq = 0;

  constructor(readonly instanceId: string) {}

  /** Send a request to every other instance (each ignores one not addressed to it). */
  protected abstract sendRequest(message: ClusterWireMessage & { t: 'req' }): void;
  /** Send an answer back to the instance that asked. */
  protected abstract sendAnswer(to: string, message: ClusterWireMessage & { t: 'res' }): void;

  async start(respond: ClusterResponder): Promise<void> {
    this.respond = respond;
  }

  async close(): Promise<void> {
    this.respond = null;
    for (const p of this.pending.values()) p.done();
  }

  async ask(request: ClusterRequest, options: AskOptions): Promise<ClusterAnswer[]> {
    const id = `${this.nonce}-${(++this.seq).toString(36)}`;
    const answers: ClusterAnswer[] = [];
    return new Promise<ClusterAnswer[]>((resolve) => {
      const timer = setTimeout(() => finish(), options.timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        if (entry.settleTimer) clearTimeout(entry.settleTimer);
        if (!this.pending.delete(id)) return;
        resolve(answers);
      };
      const entry: Pending = { answers, expect: options.expect, to: request.to, settleUntil: Date.now() + (options.settleMs ?? 0), settleTimer: null, done: finish };
      this.pending.set(id, entry);
      if (request.to === undefined || request.to === this.instanceId) {
        void this.answer(request.kind, request.body).then((own) => {
          answers.unshift({ from: this.instanceId, ...own });
          this.checkComplete(id);
        });
      }
      if (request.to !== this.instanceId) {
        this.sendRequest({ t: 'req', id, from: this.instanceId, to: request.to, kind: request.kind, body: request.body });
      }
    });
  }

  /** A wire message from another instance (subclasses call this). */
  protected receive(message: ClusterWireMessage): void {
    if (message.from === this.instanceId) return;
    if (message.t === 'res') {
      const entry = this.pending.get(message.id);
      if (!entry || entry.answers.some((a) => a.from === message.from)) return;
      entry.answers.push(message.ok ? { from: message.from, ok: true, body: message.body } : { from: message.from, ok: false, error: message.error ?? 'failed' });
      this.checkComplete(message.id);
      return;
    }
    if (message.to !== undefined && message.to !== this.instanceId) return;
    if (this.respond === null) return;
    void this.answer(message.kind, message.body).then((outcome) => {
      this.sendAnswer(message.from, outcome.ok
        ? { t: 'res', id: message.id, from: this.instanceId, ok: true, body: outcome.body }
        : { t: 'res', id: message.id, from: this.instanceId, ok: false, error: outcome.error });
    });
  }

  private async answer(kind: string, body: unknown): Promise<{ ok: true; body: unknown } | { ok: false; error: string }> {
    const respond = this.respond;
    if (respond === null) return { ok: false, error: 'not started' };
    try {
      return { ok: true, body: await respond(kind, body) };
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
  }

  private checkComplete(id: string): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    const from = new Set(entry.answers.map((a) => a.from));
    const complete = entry.to !== undefined
      ? from.has(entry.to)
      : entry.expect !== undefined && from.has(this.instanceId) && [...entry.expect].every((i) => from.has(i));
    if (!complete) return;
    const wait = entry.to === undefined ? entry.settleUntil - Date.now() : 0;
    if (wait <= 0) entry.done();
    else entry.settleTimer ??= setTimeout(entry.done, wait);
  }
}

/** Parse a wire message; null for anything else (another version, garbage). */
export function decodeClusterMessage(text: string): ClusterWireMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const m = value as Record<string, unknown>;
  if (typeof m.id !== 'string' || typeof m.from !== 'string') return null;
  if (m.t === 'req' && typeof m.kind === 'string' && (m.to === undefined || typeof m.to === 'string')) return m as ClusterWireMessage;
  if (m.t === 'res' && typeof m.ok === 'boolean') return m as ClusterWireMessage;
  return null;
}
