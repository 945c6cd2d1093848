/**
 * The admin page (`dist/client/admin.html`, built by scripts/build-client.mjs with its script and
 * style inlined). Its Content-Security-Policy allows exactly that one inline script (by hash),
 * requests to this gateway only, and nothing from elsewhere.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Logger } from '../log.js';
import { readAsset, type StaticAsset } from '../http/static-assets.js';

export const ADMIN_PAGE_FILE = 'admin.html';

export function adminPageCsp(scriptHash: string): string {
  return [
    "default-src 'none'", `script-src '${scriptHash}'`, "style-src 'unsafe-inline'", "connect-src 'self'",
    "img-src 'self' data:", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
  ].join('; ');
}

/** The page with its headers, or null (the route answers 503) when the build is missing. */
export function loadAdminPage(dir: string, log: Logger): StaticAsset | null {
  const raw = readAsset(path.join(dir, ADMIN_PAGE_FILE), {});
  if (!raw) {
    log.error({ dir, missing: [ADMIN_PAGE_FILE] }, 'admin page not built; GET /admin answers 503 until `npm run build` has built it');
    return null;
  }
  const script = /<script>([\s\S]*?)<\/script>/.exec(raw.body.toString('utf8'))?.[1] ?? '';
  const hash = `sha256-${createHash('sha256').update(script, 'utf8').digest('base64')}`;
  raw.headers = {
    'content-type': 'text/html; charset=utf-8', 'content-security-policy': adminPageCsp(hash),
    'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY',
  };
  return raw;
}
