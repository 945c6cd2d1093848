/** `GET /metrics` on the gateway's own port (the proxy snippets do not expose it): the observer's Prometheus exposition, if it has one. */
import type { GatewayObserver } from '../observer.js';
import type { HttpRouter } from './router.js';

export const METRICS_PATHS = ['/metrics'];

export function registerMetricsRoute(router: HttpRouter, observer: GatewayObserver): void {
  const exposition = observer.exposition?.bind(observer);
  if (!exposition) return;
  router.add('GET', METRICS_PATHS, async (_req, res) => {
    const { contentType, body } = await exposition();
    res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
}
