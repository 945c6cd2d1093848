/**
 * The Origin rule against cross-site WebSocket hijacking. Browsers always send `Origin` on a
 * WebSocket upgrade and a page cannot change it; a page on another site that opens our URL gets
 * the visitor's cookies attached, so its upgrade must be refused. The default accepts an origin
 * whose host and port equal the host the browser addressed, plus the listed origins; `*` accepts
 * any. Upgrades without `Origin` (PHP, CLI tools, other servers) are not a browser's and pass.
 */

export type OriginVerdict = 'no-origin' | 'same-origin' | 'listed' | 'any' | 'foreign';

export interface OriginRules {
  /** `WSS_ALLOWED_ORIGINS=*`: every origin is accepted (the pre-policy behaviour). */
  any: boolean;
  /** Origins accepted besides the same-origin rule, as `scheme://host[:port]`. */
  listed: ReadonlySet<string>;
}

/** What the request says about the address the browser used (see ProxyTrust). */
export interface AddressedHost {
  /** `Host` or a trusted proxy's `X-Forwarded-Host`: `name[:port]`. */
  host: string | undefined;
  /** A trusted proxy's `X-Forwarded-Proto`, when it sent one. */
  proto: string | undefined;
}

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443', 'ws:': '80', 'wss:': '443' };

/**
 * An allow-list entry in the form browsers send (`https://site.example`, no path, default port
 * left out). Throws on anything that is not an http(s) origin.
 */
export function normalizeOrigin(entry: string): string {
  const url = new URL(entry);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`not an http(s) origin: ${entry}`);
  if (url.pathname !== '/' || url.search || url.hash || url.username) throw new TypeError(`an origin has no path, query or user: ${entry}`);
  return url.origin;
}

export function originRules(list: readonly string[]): OriginRules {
  return { any: list.includes('*'), listed: new Set(list.filter((e) => e !== '*').map(normalizeOrigin)) };
}

export function judgeOrigin(origin: string | undefined, addressed: AddressedHost, rules: OriginRules): OriginVerdict {
  if (origin === undefined) return 'no-origin';
  if (rules.any) return 'any';
  const url = parseUrl(origin);
  // "null" (sandboxed frames, file: pages) and non-web schemes never match a site.
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) return 'foreign';
  if (rules.listed.has(url.origin)) return 'listed';
  return sameHostAndPort(url, addressed) ? 'same-origin' : 'foreign';
}

function sameHostAndPort(origin: URL, addressed: AddressedHost): boolean {
  const target = splitHost(addressed.host);
  if (!target || target.hostname !== origin.hostname) return false;
  const originPort = origin.port || DEFAULT_PORTS[origin.protocol]!;
  if (target.port !== undefined) return target.port === originPort;
  // The browser leaves the port out of Host exactly when it is the default of its scheme (ws: 80,
  // wss: 443). When a trusted proxy names the scheme, that decides the port; otherwise an origin
  // on its own scheme's default port matches.
  const proxyPort = addressed.proto === undefined ? undefined : DEFAULT_PORTS[`${addressed.proto}:`];
  return proxyPort !== undefined ? proxyPort === originPort : origin.port === '';
}

/** `name[:port]` (name possibly `[v6]`) as URL's normalised hostname and the explicit port, if any. */
function splitHost(host: string | undefined): { hostname: string; port: string | undefined } | null {
  const match = host === undefined ? null : /^(\[[0-9A-Fa-f:.]+\]|[^\s:/?#@[\]]+)(?::(\d{1,5}))?$/.exec(host);
  if (!match) return null;
  const url = parseUrl(`http://${match[1]}`);
  if (!url) return null;
  const port = match[2] === undefined ? undefined : String(Number(match[2]));
  return { hostname: url.hostname, port };
}

function parseUrl(text: string): URL | null {
  try {
    return new URL(text);
  } catch {
    return null;
  }
}
