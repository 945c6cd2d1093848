/**
 * Asking PorticoEstate a question over HTTP on a client's behalf: a GET carrying only that
 * client's session cookie, bounded by a timeout, with answers cached per key (positive and
 * negative alike) and concurrent questions for one key sharing one request. Used by the identity
 * callback (WSS_AUTH_URL) and the entity-room authorization (WSS_SUBSCRIBE_AUTH_URL).
 *
 * An answer is a status PorticoEstate chose (2xx with JSON, 401, 403, 404…) and is cached. No
 * answer (refused, timed out, 5xx, a 2xx that is not JSON) means the endpoint is unusable: nothing
 * is cached, the callback's state turns `down`, and the caller decides what that means (the
 * gateway treats it as anonymous / not allowed). While down, one probe request goes out per
 * `probeIntervalMs` and every other question is answered "unavailable" at once, so a hung
 * endpoint neither delays every upgrade by the timeout nor gets a storm of requests when it
 * struggles. State changes are logged once each.
 */
import { LRUCache } from 'lru-cache';
import type { Logger } from '../log.js';
import { StatusCell } from '../redis/status.js';

/** `unknown` until the first request has an outcome. */
export type CallbackState = 'unknown' | 'up' | 'down';

/** What the endpoint said: its status and, for a 2xx, the parsed JSON body. */
export interface CallbackAnswer { status: number; body: unknown }

/** How one question was answered: from the cache, by the endpoint (yes/no), or not at all. */
export type CallbackOutcome = 'cached' | 'yes' | 'no' | 'unavailable';

export type CallbackResult<T> = { answered: true; value: T; cached: boolean } | { answered: false };

export interface HttpCallbackOptions<T> {
  /** Name in logs and /health, e.g. "identity". */
  name: string;
  timeoutMs: number;
  /** While down, at most one request per this many ms (the probe); others fail at once. */
  probeIntervalMs: number;
  /** How long an answer is reused for the same key. 0 = never cached. */
  cacheMs: number;
  /** Most cached answers kept (least recently used go first). Default 50,000. */
  maxEntries?: number;
  log: Logger;
  /** A 2xx must carry JSON (the identity answer); when false the body is ignored. Default true. */
  expectJson?: boolean;
  /** Turn an answer into the value cached and returned (e.g. identities, allowed). */
  interpret: (answer: CallbackAnswer) => T;
  /** Whether a value is a "no" (anonymous, denied); see `recheckNoAfterMs` of `ask`. */
  isNo?: (value: T) => boolean;
  /** Called once per question with how it was answered (metrics). */
  onOutcome?: (outcome: CallbackOutcome) => void;
}

/** Cookie pair sent to PorticoEstate: only the session cookie the gateway read, never the client's others. */
export function sessionCookie(name: string, sessionId: string): string {
  return `${name}=${encodeURIComponent(sessionId)}`;
}

class NoAnswer extends Error {}

interface Cached<T> { value: T; at: number }

export class HttpCallback<T extends {}> {
  private readonly cache: LRUCache<string, Cached<T>>;
  private readonly inFlight = new Map<string, Promise<CallbackResult<T>>>();
  private readonly cell = new StatusCell<CallbackState>('unknown');
  private lastProblem = '';
  private lastAttemptAt = 0;
  private probing = false;

  constructor(private readonly opts: HttpCallbackOptions<T>) {
    this.cache = new LRUCache<string, Cached<T>>({ max: opts.maxEntries ?? 50_000, ttl: Math.max(opts.cacheMs, 1), ttlAutopurge: false });
    this.cell.onChange((from, to) => {
      if (to === 'down') opts.log.warn({ callback: opts.name, from, to, problem: this.lastProblem }, `${opts.name} endpoint ${from} -> down; treating clients as not authenticated`);
      else opts.log.info({ callback: opts.name, from, to }, `${opts.name} endpoint ${from} -> ${to}`);
    });
  }

  get state(): CallbackState {
    return this.cell.value;
  }

  /**
   * GET `url` with `cookie` as the only cookie; `key` names what the answer depends on (the
   * session, plus the room for authorization) and is never logged. With `recheckNoAfterMs`, a
   * cached "no" at least that old is asked again.
   */
  ask(url: string, cookie: string, key: string, recheckNoAfterMs?: number): Promise<CallbackResult<T>> {
    if (this.opts.cacheMs > 0) {
      const hit = this.cache.get(key);
      // A cached "no" may be stale after a login the client tells us about (update_session);
      // asking again at most once per `recheckNoAfterMs` keeps that from becoming a request per frame.
      const recheck = hit !== undefined && recheckNoAfterMs !== undefined && this.opts.isNo?.(hit.value) === true && Date.now() - hit.at >= recheckNoAfterMs;
      if (hit !== undefined && !recheck) {
        this.opts.onOutcome?.('cached');
        return Promise.resolve({ answered: true, value: hit.value, cached: true });
      }
    }
    let pending = this.inFlight.get(key);
    if (!pending && this.cell.value === 'down' && (this.probing || Date.now() - this.lastAttemptAt < this.opts.probeIntervalMs)) {
      this.opts.onOutcome?.('unavailable');
      return Promise.resolve({ answered: false });
    }
    if (!pending) {
      pending = this.request(url, cookie, key).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private async request(url: string, cookie: string, key: string): Promise<CallbackResult<T>> {
    let answer: CallbackAnswer;
    this.lastAttemptAt = Date.now();
    this.probing = this.cell.value === 'down';
    try {
      answer = await this.fetchAnswer(url, cookie);
    } catch (err) {
      this.probing = false;
      this.lastProblem = err instanceof NoAnswer ? err.message : describe(err);
      this.cell.set('down');
      this.opts.onOutcome?.('unavailable');
      return { answered: false };
    }
    this.probing = false;
    this.cell.set('up');
    const value = this.opts.interpret(answer);
    this.opts.onOutcome?.(this.opts.isNo?.(value) ? 'no' : 'yes');
    if (this.opts.cacheMs > 0) this.cache.set(key, { value, at: Date.now() });
    return { answered: true, value, cached: false };
  }

  private async fetchAnswer(url: string, cookie: string): Promise<CallbackAnswer> {
    const res = await fetch(url, {
      method: 'GET',
      headers: { cookie, accept: 'application/json' },
      redirect: 'manual', // a redirect to a login page is a "no", not something to follow
      signal: AbortSignal.timeout(this.opts.timeoutMs),
    });
    if (res.status >= 500) {
      await res.body?.cancel();
      throw new NoAnswer(`HTTP ${res.status}`);
    }
    if (res.status < 200 || res.status >= 300) {
      await res.body?.cancel();
      return { status: res.status, body: null };
    }
    if (this.opts.expectJson === false) {
      await res.body?.cancel();
      return { status: res.status, body: null };
    }
    const text = await res.text();
    try {
      return { status: res.status, body: text === '' ? null : JSON.parse(text) };
    } catch {
      throw new NoAnswer(`HTTP ${res.status} with a body that is not JSON`);
    }
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'timed out';
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? err.message;
  }
  return String(err);
}
