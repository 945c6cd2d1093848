/**
 * Whether an upgrade request may become a connection: its Origin (cross-site WebSocket
 * hijacking), the gateway's capacity and the per-address cap. Kept apart from the raw WebSocket
 * transport so every front door (and Socket.IO's polling requests, once they exist) asks the
 * same question and gets the same answer, log line and count.
 */
import type { IncomingMessage } from 'node:http';
import { KeyedThrottle } from '../log-throttle.js';
import type { Logger } from '../log.js';
import { judgeOrigin, originRules, type AddressedHost, type OriginRules, type OriginVerdict } from './origin.js';
import { addressKey, ProxyTrust } from './proxy.js';

export type RefusalReason = 'path' | 'origin' | 'capacity' | 'ip_limit';

export interface UpgradeRefusal {
  status: number;
  statusText: string;
  reason: RefusalReason;
}

/** An accepted upgrade: who it is from, and the slot it holds until `release()`. */
export interface Admission {
  /** The client's address (X-Forwarded-For believed only from a trusted proxy). */
  clientAddress: string;
  /** Give the per-address slot back; later calls do nothing. */
  release(): void;
}

export type UpgradeDecision = { ok: true; clientAddress: string } | { ok: false; refusal: UpgradeRefusal };

export interface UpgradePolicyOptions {
  allowedOrigins: readonly string[];
  trustedProxies: readonly string[];
  maxConnections: number;
  maxConnectionsPerIp: number;
}

export const REFUSALS = {
  path: { status: 404, statusText: 'Not Found', reason: 'path' },
  origin: { status: 403, statusText: 'Forbidden', reason: 'origin' },
  capacity: { status: 503, statusText: 'Service Unavailable', reason: 'capacity' },
  ip_limit: { status: 429, statusText: 'Too Many Requests', reason: 'ip_limit' },
} as const satisfies Record<RefusalReason, UpgradeRefusal>;

const LOGGED_ORIGIN_CHARS = 200;
/** Proxies already named in the "cap not applied" line (bounded: loopback alone is a /8). */
const MAX_NOTED_PROXIES = 100;
const MAX_REMEMBERED_VERDICTS = 1000;

export class UpgradePolicy {
  readonly proxies: ProxyTrust;
  private readonly origins: OriginRules;
  /** Open connections per address key (IPv4 address or IPv6 /64). */
  private readonly perAddress = new Map<string, number>();
  private readonly refusalLog = new KeyedThrottle();
  private readonly verdicts = new Map<string, OriginVerdict>();
  private readonly uncappedProxies = new Set<string>();

  constructor(
    private readonly options: UpgradePolicyOptions,
    private readonly openConnections: () => number,
    private readonly log: Logger,
    private readonly onRefused: (reason: RefusalReason) => void,
  ) {
    this.proxies = new ProxyTrust(options.trustedProxies);
    this.origins = originRules(options.allowedOrigins);
    if (this.origins.any) {
      log.warn('WSS_ALLOWED_ORIGINS=* accepts WebSocket upgrades from pages of any site: they reach the visitor\'s session (cross-site WebSocket hijacking)');
    }
  }

  /** Decide on an upgrade request (the path is the caller's business). */
  decide(req: IncomingMessage): UpgradeDecision {
    const origin = req.headers.origin;
    const addressed = this.proxies.describe(req);
    const { clientAddress } = addressed;
    if (this.judge(origin, addressed) === 'foreign') {
      return this.refuse(REFUSALS.origin, clientAddress, { origin: origin?.slice(0, LOGGED_ORIGIN_CHARS), host: addressed.host?.slice(0, LOGGED_ORIGIN_CHARS) }, `origin:${origin}`);
    }
    if (this.openConnections() >= this.options.maxConnections) return this.refuse(REFUSALS.capacity, clientAddress, {}, 'capacity');
    if (addressed.shared) {
      this.noteUncapped(clientAddress);
      return { ok: true, clientAddress };
    }
    const key = addressKey(clientAddress);
    if ((this.perAddress.get(key) ?? 0) >= this.options.maxConnectionsPerIp) {
      return this.refuse(REFUSALS.ip_limit, clientAddress, { limit: this.options.maxConnectionsPerIp }, `ip:${key}`);
    }
    return { ok: true, clientAddress };
  }

  /** Whether a request after the handshake (Socket.IO polling, its websocket upgrade) comes from a page of another site. */
  foreignOrigin(req: IncomingMessage): boolean {
    return this.judge(req.headers.origin, this.proxies.describe(req)) === 'foreign';
  }

  /** Count an accepted connection against its address until it is released. */
  admit(clientAddress: string): Admission {
    const key = addressKey(clientAddress);
    this.perAddress.set(key, (this.perAddress.get(key) ?? 0) + 1);
    let released = false;
    return {
      clientAddress,
      release: () => {
        if (released) return;
        released = true;
        const left = (this.perAddress.get(key) ?? 1) - 1;
        if (left > 0) this.perAddress.set(key, left);
        else this.perAddress.delete(key);
      },
    };
  }

  /** Count and log a refusal the front door decided itself (an unknown path). */
  refused(refusal: UpgradeRefusal, req: IncomingMessage): void {
    this.refuse(refusal, this.proxies.describe(req).clientAddress, {}, refusal.reason);
  }

  // A trusted proxy that does not say who its client is (no X-Forwarded-For) is every client
  // behind it: capping it would cap the whole site at WSS_MAX_CONNECTIONS_PER_IP. Only the
  // gateway-wide WSS_MAX_CONNECTIONS applies to it; say so once per proxy. Info, not a warning:
  // a browser on the gateway's own host (the default set-up, the test page) is such a case too.
  private noteUncapped(proxy: string): void {
    if (this.uncappedProxies.has(proxy) || this.uncappedProxies.size >= MAX_NOTED_PROXIES) return;
    this.uncappedProxies.add(proxy);
    this.log.info({ proxy }, 'upgrades from this trusted proxy carry no X-Forwarded-For: its clients cannot be told apart, so WSS_MAX_CONNECTIONS_PER_IP does not apply to them (see the proxy files in deploy/)');
  }

  /** judgeOrigin, remembered: a site's pages send the same few Origin/Host pairs over and over. */
  private judge(origin: string | undefined, addressed: AddressedHost): OriginVerdict {
    if (origin === undefined) return 'no-origin';
    const key = `${origin}\n${addressed.host ?? ''}\n${addressed.proto ?? ''}`;
    let verdict = this.verdicts.get(key);
    if (verdict === undefined) {
      verdict = judgeOrigin(origin, addressed, this.origins);
      if (this.verdicts.size >= MAX_REMEMBERED_VERDICTS) this.verdicts.clear();
      this.verdicts.set(key, verdict);
    }
    return verdict;
  }

  private refuse(refusal: UpgradeRefusal, ip: string, fields: Record<string, unknown>, logKey: string): UpgradeDecision {
    this.onRefused(refusal.reason);
    // One line per origin (per address, per reason) and minute: refusals are provoked by clients.
    const held = this.refusalLog.take(logKey);
    if (held !== null) {
      const level = refusal.reason === 'origin' ? 'warn' : 'info'; // a refused origin may be a misconfigured site
      this.log[level]({ status: refusal.status, reason: refusal.reason, ip, ...fields, ...(held > 0 ? { alsoRefused: held } : {}) }, 'upgrade refused');
    }
    return { ok: false, refusal };
  }
}
