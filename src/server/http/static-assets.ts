/**
 * The browser client (`/client.js`) and the test page (`/websocket-test`), each also under `/wss`
 * for pages behind the reverse proxy. The files are built by `scripts/build-client.mjs` into
 * `dist/client/` and read once when the gateway is created; requests are answered from memory
 * with an ETag, so browsers revalidate with `If-None-Match` and get a 304 until a new build ships.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../log.js';
import { sendJson, type HttpRouter } from './router.js';

/** The minified global-script build; `portico-client.js` beside it is the readable one. */
export const CLIENT_SCRIPT_FILE = 'portico-client.min.js';
export const TEST_PAGE_FILE = 'websocket-test.html';

export const CLIENT_SCRIPT_PATHS = ['/client.js', '/wss/client.js'];
export const TEST_PAGE_PATHS = ['/websocket-test', '/wss/websocket-test'];

// `no-cache` = store, but revalidate on every use: pages load an unversioned URL, so a new
// build must be picked up at once, and a revalidation costs one small 304.
const CACHE_CONTROL = 'no-cache';

// The page only talks to its own gateway: no external resources, no framing.
const TEST_PAGE_CSP = [
  "default-src 'none'", "script-src 'self' 'unsafe-inline'", "style-src 'unsafe-inline'",
  "connect-src 'self' ws: wss:", "img-src 'self' data:", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
].join('; ');

export interface StaticAsset {
  body: Buffer;
  etag: string;
  headers: Record<string, string>;
}

export interface ClientAssets {
  dir: string;
  /** Null when the build is missing: the routes then answer 503. */
  script: StaticAsset | null;
  testPage: StaticAsset | null;
}

/** The folder of the package this module belongs to (the nearest package.json up). */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return dir;
}

/** `dist/client` of this package. */
export function defaultClientAssetsDir(): string {
  return path.join(packageRoot(), 'dist', 'client');
}

export function readAsset(file: string, headers: Record<string, string>): StaticAsset | null {
  let body: Buffer;
  try {
    body = fs.readFileSync(file);
  } catch {
    return null;
  }
  return assetOf(body, headers);
}

/** An in-memory response body with its content-hash ETag. */
export function assetOf(body: Buffer, headers: Record<string, string>): StaticAsset {
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  return { body, etag, headers };
}

/** Read the built assets from `dir`; logs an error naming the fix when they are missing. */
export function loadClientAssets(dir: string, log: Logger): ClientAssets {
  const script = readAsset(path.join(dir, CLIENT_SCRIPT_FILE), { 'content-type': 'text/javascript; charset=utf-8' });
  const testPage = readAsset(path.join(dir, TEST_PAGE_FILE), {
    'content-type': 'text/html; charset=utf-8', 'content-security-policy': TEST_PAGE_CSP, 'referrer-policy': 'no-referrer',
  });
  const missing = [script ? null : CLIENT_SCRIPT_FILE, testPage ? null : TEST_PAGE_FILE].filter(Boolean);
  if (missing.length > 0) {
    log.error({ dir, missing }, 'browser client assets not found; /client.js and /websocket-test answer 503 until `npm run build` has built them');
  }
  return { dir, script, testPage };
}

/** True when the request's `If-None-Match` lists `etag` (weak comparison, as RFC 9110 says for GET). */
export function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t.replace(/^W\//, '') === etag;
  });
}

export function serveAsset(req: IncomingMessage, res: ServerResponse, asset: StaticAsset | null): void {
  if (!asset) {
    sendJson(res, 503, { error: 'client_not_built', message: 'The browser client has not been built; run npm run build' });
    return;
  }
  const common = { etag: asset.etag, 'cache-control': CACHE_CONTROL, 'x-content-type-options': 'nosniff' };
  if (matchesEtag(req.headers['if-none-match'], asset.etag)) {
    res.writeHead(304, common);
    res.end();
    return;
  }
  res.writeHead(200, { ...asset.headers, ...common, 'content-length': asset.body.length });
  res.end(req.method === 'HEAD' ? undefined : asset.body);
}

/** Register the client script and test page routes (GET and HEAD). */
export function registerClientAssets(router: HttpRouter, assets: ClientAssets): void {
  router.add('GET', CLIENT_SCRIPT_PATHS, (req, res) => serveAsset(req, res, assets.script));
  router.add('GET', TEST_PAGE_PATHS, (req, res) => serveAsset(req, res, assets.testPage));
}
