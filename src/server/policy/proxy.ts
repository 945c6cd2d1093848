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

export class ProxyTrust {
  private readonly trust: (addr: string, hop: number) => boolean;

  constructor(trusted: readonly string[]) {
    this.trust = compileTrustedProxies(trusted);
  }

  /** The request came straight from a trusted proxy. */
  fromTrustedProxy(req: IncomingMessage): boolean {
    const peer = req.socket.remoteAddress;
    return peer !== undefined && this.trust(peer, 0);
  }

  /**
   * The client's address: the peer, or, walking `X-Forwarded-For` from the right while each hop
   * is a trusted proxy, the first address that is not one.
   */
  clientAddress(req: IncomingMessage): string {
    if (req.socket.remoteAddress === undefined) return 'unknown';
    return normalizeAddress(proxyaddr(req, this.trust));
  }

  /** The host (with port, if any) the browser addressed: `X-Forwarded-Host` from a trusted proxy, else `Host`. */
  addressedHost(req: IncomingMessage): string | undefined {
    const forwarded = this.fromTrustedProxy(req) ? firstValue(req.headers['x-forwarded-host']) : undefined;
    return forwarded ?? firstValue(req.headers.host);
  }

  /** The scheme the browser used, when a trusted proxy says so (`X-Forwarded-Proto`). */
  addressedProto(req: IncomingMessage): string | undefined {
    return this.fromTrustedProxy(req) ? firstValue(req.headers['x-forwarded-proto'])?.toLowerCase() : undefined;
  }
}

/** The first entry of a header that proxies append to (`a, b`): what the outermost proxy saw. */
function firstValue(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const first = value?.split(',')[0]?.trim();
  return first ? first : undefined;
}

/** IPv4-mapped IPv6 (`::ffff:10.0.0.1`) as plain IPv4, everything else in its canonical form. */
export function normalizeAddress(address: string): string {
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
  if (!ipaddr.isValid(address)) return address;
  const parsed = ipaddr.process(address);
  if (parsed.kind() === 'ipv4' || parsed.range() === 'loopback') return parsed.toString();
  const parts = (parsed as ipaddr.IPv6).parts.slice(0, 4);
  return `${new ipaddr.IPv6([...parts, 0, 0, 0, 0]).toString()}/64`;
}
