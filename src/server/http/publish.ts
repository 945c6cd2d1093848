/**
 * `POST /publish` (alias `/wss-publish`, the original's disabled route): publish one channel
 * payload over HTTP, for applications that cannot reach Redis. Body
 * `{"channel":"notifications"|"session_messages"|"room_messages","payload":{…}}`, authenticated with
 * `Authorization: Bearer <WSS_PUBLISH_TOKEN>`, processed exactly like a message on that Redis
 * channel, and sent out on the bus so it reaches every instance. Not registered at all while no
 * token is configured, so the router answers 404.
 */
import type { ServerResponse } from 'node:http';
import { CHANNELS, type LegacyChannel } from '../../protocol/constants.js';
import { isPlainObject } from '../../protocol/validate.js';
import type { Config } from '../config/index.js';
import { IngressError, type Ingress } from '../ingress/ingress.js';
import type { Logger } from '../log.js';
import { BearerToken, BodyTooLarge, readBody } from './bearer.js';
import { sendJson, type HttpRouter } from './router.js';

/** Not under /wss, so the public reverse proxy does not expose it unless told to. */
export const PUBLISH_PATHS = ['/publish', '/wss-publish'];

/**
 * @param accepting false once the gateway is shutting down: a message accepted then would reach
 *   only closing connections, so the publisher is told 503 and falls back (spool file).
 */
export function registerPublishRoutes(router: HttpRouter, ingress: Ingress, config: Config['publish'], log: Logger, accepting: () => boolean = () => true): void {
  const { token, maxBodyBytes } = config;
  if (!token) return;
  const bearer = new BearerToken(token);

  router.add('POST', PUBLISH_PATHS, async (req, res) => {
    const verdict = bearer.check(req);
    if (verdict === 'missing') {
      return sendJson(res, 401, { error: 'unauthorized', message: 'Authorization: Bearer <token> required' }, { 'www-authenticate': 'Bearer' });
    }
    if (verdict === 'wrong') {
      log.warn({ ip: req.socket.remoteAddress }, 'publish refused: wrong token');
      return sendJson(res, 401, { error: 'unauthorized', message: 'Invalid token' }, { 'www-authenticate': 'Bearer error="invalid_token"' });
    }
    let text: string;
    try {
      text = await readBody(req, maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyTooLarge) return tooLarge(res, maxBodyBytes);
      throw err;
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return sendJson(res, 400, { error: 'invalid_json', message: 'Body is not valid JSON' });
    }
    if (!isPlainObject(body) || !CHANNELS.includes(body.channel as LegacyChannel) || !isPlainObject(body.payload)) {
      return sendJson(res, 400, { error: 'invalid_body', message: `Body must be {"channel": ${CHANNELS.map((c) => `"${c}"`).join('|')}, "payload": {…}}` });
    }
    const channel = body.channel as LegacyChannel;
    // Checked after the body arrived: shutdown may have begun while it was being read.
    if (!accepting()) {
      return sendJson(res, 503, { error: 'shutting_down', message: 'The gateway is shutting down; publish elsewhere or spool' }, { connection: 'close', 'retry-after': '5' });
    }
    try {
      await ingress.handle(channel, body.payload, 'http');
    } catch (err) {
      if (err instanceof IngressError) return sendJson(res, 400, { error: 'invalid_payload', message: err.message });
      throw err;
    }
    sendJson(res, 202, { ok: true, channel });
  });
}

function tooLarge(res: ServerResponse, limit: number): void {
  // The rest of the body is not read; closing the connection keeps the client from sending it.
  sendJson(res, 413, { error: 'payload_too_large', message: `Body exceeds ${limit} bytes (WSS_PUBLISH_MAX_BYTES)` }, { connection: 'close' });
}
