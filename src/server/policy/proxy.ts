/**
 * Which `X-Forwarded-*` headers to believe. They are believed only when the request's peer is a
 * trusted proxy (WSS_TRUSTED_PROXIES, default loopback: Apache or nginx on the same host);
 * from anyone else they are what the client says about itself, and ignored.
 */
import type { IncomingMessage } from 'node:http';
import ipaddr from 'ipaddr.js';
import proxyaddr from 'proxy-addr';

/** Throws TypeError on an entry that is neither an address, a CIDR nor loopback/linklocal/uniquelocal. */
export function compileTrustedProxies(list: readonly string[]): (addr: string, hop: number) => boolean {
  return proxyaddr.compile([...list]);
}

/** What an upgrade request says about its client, with X-Forwarded-* believed only from a trusted proxy. */
export interface RequestOrigin {
  /** The client's address: the peer, or, walking `X-Forwarded-For` from the right while each hop is a trusted proxy, the first that is not one. */
  clientAddress: string;
  /** The host (with port, if any) the browser addressed: a trusted proxy's `X-Forwarded-Host`, else `Host`. */
  host: string | undefined;
  /** The scheme the browser used, when a trusted proxy says so (`X-Forwarded-Proto`). */
  proto: string | undefined;
  /**
   * The client address is itself a trusted proxy (it sent no `X-Forwarded-For`, or only proxies in
   * it): it stands for every client behind that proxy, so it cannot be capped like one client.
   */
  shared: boolean;
}

/** Remembered trust answers; peers are few (the proxies) or, without a proxy, bounded by this. */
const MAX_REMEMBERED = 10_000;

export class ProxyTrust {
  private readonly trust: (addr: string, hop: number) => boolean;
  private readonly remembered = new Map<string, boolean>();

  constructor(trusted: readonly string[]) {
    this.trust = compileTrustedProxies(trusted);
  }

  describe(req: IncomingMessage): RequestOrigin {
    const peer = req.socket.remoteAddress;
    if (peer === undefined) return { clientAddress: 'unknown', host: firstValue(req.headers.host), proto: undefined, shared: false };
    const fromProxy = this.isTrusted(peer);
    const client = fromProxy ? proxyaddr(req, this.isTrusted) : peer;
    return {
      clientAddress: normalizeAddress(client),
      host: (fromProxy ? firstValue(req.headers['x-forwarded-host']) : undefined) ?? firstValue(req.headers.host),
      proto: fromProxy ? firstValue(req.headers['x-forwarded-proto'])?.toLowerCase() : undefined,
      shared: fromProxy && this.isTrusted(client),
    };
  }

  // A list-based trust ignores the hop index, so answers can be remembered per address
  // (parsing an address is most of the cost of an upgrade decision).
  private readonly isTrusted = (addr: string): boolean => {
    let answer = this.remembered.get(addr);
    if (answer === undefined) {
      answer = this.trust(addr, 0);
      if (this.remembered.size >= MAX_REMEMBERED) this.remembered.clear();
      this.remembered.set(addr, answer);
    }
    return answer;
  };
}

/** The first entry of a header that proxies append to (`a, b`): what the outermost proxy saw. */
function firstValue(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const first = value?.split(',')[0]?.trim();
  return first ? first : undefined;
}

const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/** IPv4-mapped IPv6 (`::ffff:10.0.0.1`) as plain IPv4, everything else in its canonical form. */
export function normalizeAddress(address: string): string {
  if (IPV4.test(address)) return address;
  try {
    return ipaddr.process(address).toString();
  } catch {
    return address;
  }
}

/**
 * What one "address" is for the per-address connection cap: an IPv4 address, or an IPv6 /64
 * (one subscriber's network; a single host can pick any address inside it).
 */
export function addressKey(address: string): string {
  if (IPV4.test(address) || !ipaddr.isValid(address)) return address;
  const parsed = ipaddr.process(address);
  if (parsed.kind() === 'ipv4' || parsed.range() === 'loopback') return parsed.toString();
  const parts = (parsed as ipaddr.IPv6).parts.slice(0, 4);
  return `${new ipaddr.IPv6([...parts, 0, 0, 0, 0]).toString()}/64`;
}
