/**
 * `GET /` (and `/wss/` behind the proxy): a small page for a person who opens the gateway in a
 * browser, linking the test page, health, metrics and the documentation, which is served from
 * this package (README.md, docs/protocol.md) so the page needs nothing outside the gateway.
 * `/wss` without the slash is redirected, so the page's relative links resolve under `/wss/`.
 */
import path from 'node:path';
import { assetOf, readAsset, serveAsset, type StaticAsset } from './static-assets.js';
import type { HttpRouter } from './router.js';

// No scripts, no external resources, no framing.
const HOME_CSP = ["default-src 'none'", "style-src 'unsafe-inline'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'"].join('; ');

/** Documents served as plain text (browsers show it; text/markdown would be downloaded). */
const DOCS = [
  { file: 'docs/protocol.md', title: 'Protocol: every message type, ingress payload and error code' },
  { file: 'README.md', title: 'README: configuration, running several instances, operating' },
] as const;

interface Doc { route: string; title: string; asset: StaticAsset }

export interface HomeOptions {
  /** Folder holding README.md and docs/ (the package root). */
  packageDir: string;
  metricsEnabled: boolean;
}

export function registerHomePage(router: HttpRouter, opts: HomeOptions): void {
  const docs: Doc[] = [];
  for (const { file, title } of DOCS) {
    const asset = readAsset(path.join(opts.packageDir, file), { 'content-type': 'text/plain; charset=utf-8' });
    if (asset) docs.push({ route: `docs/${path.basename(file)}`, title, asset });
  }
  for (const doc of docs) {
    router.add('GET', [`/${doc.route}`, `/wss/${doc.route}`], (req, res) => serveAsset(req, res, doc.asset));
  }
  const page = (underProxy: boolean): StaticAsset => {
    const body = Buffer.from(renderHome(docs, opts.metricsEnabled && !underProxy), 'utf8');
    return assetOf(body, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': HOME_CSP, 'referrer-policy': 'no-referrer' });
  };
  const root = page(false);
  const proxied = page(true);
  router.add('GET', ['/'], (req, res) => serveAsset(req, res, root));
  router.add('GET', ['/wss/'], (req, res) => serveAsset(req, res, proxied));
  router.add('GET', ['/wss'], (_req, res) => {
    res.writeHead(301, { location: '/wss/', 'content-length': 0 });
    res.end();
  });
}

/** Links are relative, so the same page works at `/` and at `/wss/` behind the proxy. */
function renderHome(docs: readonly Doc[], withMetrics: boolean): string {
  const links = [
    ['websocket-test', 'Test page: connect, send every message type, watch every frame'],
    ['health', 'Health (JSON): status, clients, Redis, database, spool'],
    ...(withMetrics ? [['metrics', 'Metrics (Prometheus text format)']] : []),
    ...docs.map((d) => [d.route, d.title]),
  ];
  const items = links.map(([href, text]) => `    <li><a href="${href}">${text}</a></li>`).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>portico-ws</title>
  <style>
    body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
    code { background: #f2f2f2; padding: 0 .25em; }
    li { margin: .4rem 0; }
  </style>
</head>
<body>
  <h1>portico-ws</h1>
  <p>The real-time WebSocket gateway for PorticoEstate. Browsers connect to <code>/wss</code>
  with a WebSocket (<code>ws://</code> or <code>wss://</code>); this page is for people.</p>
  <ul>
${items}
  </ul>
</body>
</html>
`;
}
