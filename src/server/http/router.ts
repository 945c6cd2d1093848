/** A minimal exact-path router for the gateway's few HTTP endpoints. */
import type { IncomingMessage, ServerResponse } from 'node:http';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export class HttpRouter {
  private readonly routes = new Map<string, Map<string, RouteHandler>>();

  /** Register `handler` for `method` on each of `paths` (exact match, query string ignored). */
  add(method: string, paths: string[], handler: RouteHandler): this {
    for (const p of paths) {
      let byMethod = this.routes.get(p);
      if (!byMethod) this.routes.set(p, (byMethod = new Map()));
      byMethod.set(method.toUpperCase(), handler);
      if (method.toUpperCase() === 'GET' && !byMethod.has('HEAD')) byMethod.set('HEAD', handler);
    }
    return this;
  }

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const pathname = (req.url ?? '/').split('?')[0] ?? '/';
    const byMethod = this.routes.get(pathname);
    const handler = byMethod?.get(req.method ?? 'GET');
    if (!byMethod) return sendJson(res, 404, { error: 'not_found', message: `No route for ${pathname}` });
    if (!handler) {
      return sendJson(res, 405, { error: 'method_not_allowed', message: `${req.method} not allowed on ${pathname}` }, { allow: [...byMethod.keys()].join(', ') });
    }
    Promise.resolve(handler(req, res)).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: 'internal_error', message: 'Internal server error' });
      else res.destroy(err as Error);
    });
  };
}
