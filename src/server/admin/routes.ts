/**
 * `GET /admin` (the page) and its JSON endpoints under `/admin/api/`, answered for the whole
 * cluster by whichever instance the browser reached. Every endpoint wants
 * `Authorization: Bearer <WSS_ADMIN_TOKEN>` (401 otherwise); with no token configured nothing is
 * registered and the router answers 404. The page is same-origin and sends the token itself (no
 * cookie), so no other site can make a browser act here; no CORS headers are sent. Not under
 * /wss, so the public reverse proxy does not expose it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { maskRoomId, roomKind, ENTITY_ROOM_PREFIX, SESSION_ROOM_PREFIX, USER_ROOM_PREFIX } from '../../protocol/room-ids.js';
import { isPlainObject } from '../../protocol/validate.js';
import { BearerToken, BodyTooLarge, readBody } from '../http/bearer.js';
import { sendJson, type HttpRouter } from '../http/router.js';
import { serveAsset, type StaticAsset } from '../http/static-assets.js';
import type { Logger } from '../log.js';
import { KeyedThrottle } from '../log-throttle.js';
import { sessionRoomId } from '../session.js';
import type { ClusterView } from './cluster-view.js';
import type { AdminSource, RecentLogLine, RoomMembers, RoomSummary, Sample } from './instance.js';
import { DROP_REASONS } from './counters.js';

export const ADMIN_PAGE_PATHS = ['/admin', '/admin/'];
const API = '/admin/api';
const MAX_BODY_BYTES = 16 * 1024;
const MAX_LOG_LINES = 200;
const MAX_NOTIFICATION_CHARS = 500;
const SAMPLE_BUCKET_MS = 5000;

export interface AdminRoutesOptions {
  token: string;
  /** The built page (dist/client/admin.html); null answers 503. */
  page: StaticAsset | null;
  view: ClusterView;
  source: AdminSource;
  log: Logger;
  /** True when the request carries no Origin or the gateway's own (judged like upgrades, proxies included). */
  sameOrigin: (req: IncomingMessage) => boolean;
}

type Api = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;

export function registerAdminRoutes(router: HttpRouter, opts: AdminRoutesOptions): void {
  const { view, source, log } = opts;
  const bearer = new BearerToken(opts.token);
  // Refusals are provoked at will (a token guesser): once per kind and address a minute, with a count.
  const refusals = new KeyedThrottle();
  const refused = (req: IncomingMessage, msg: string, fields: object): void => {
    const held = refusals.take(`${msg}:${req.socket.remoteAddress}`);
    if (held !== null) log.warn({ ip: req.socket.remoteAddress, ...fields, ...(held > 0 ? { alsoSeen: held } : {}) }, msg);
  };
  router.add('GET', ADMIN_PAGE_PATHS, (req, res) => serveAsset(req, res, opts.page));

  const api = (method: 'GET' | 'POST', name: string, handler: Api): void => {
    router.add(method, [`${API}/${name}`], async (req, res) => {
      const verdict = bearer.check(req);
      if (verdict !== 'ok') {
        if (verdict === 'wrong') refused(req, 'admin refused: wrong token', { path: `${API}/${name}` });
        return sendJson(res, 401, { error: 'unauthorized', message: verdict === 'missing' ? 'Authorization: Bearer <token> required' : 'Invalid token' }, { 'www-authenticate': 'Bearer' });
      }
      // Defence in depth: the token already keeps other sites out (a browser never adds it by itself).
      if (!opts.sameOrigin(req)) {
        refused(req, 'admin refused: request from another origin', { origin: req.headers.origin?.slice(0, 200) });
        return sendJson(res, 403, { error: 'forbidden_origin', message: 'The admin API answers its own page only' });
      }
      await handler(req, res, new URL(req.url ?? '/', 'http://admin.invalid'));
    });
  };

  api('GET', 'cluster', async (_req, res) => {
    const instances = await view.instances();
    sendJson(res, 200, { self: source.instanceId, at: Date.now(), instances });
  });

  api('GET', 'samples', async (_req, res) => {
    const { answers, missing } = await view.gather<Sample[]>('samples');
    sendJson(res, 200, { intervalMs: SAMPLE_BUCKET_MS, dropReasons: DROP_REASONS, total: aggregateSamples([...answers.values()]), instances: Object.fromEntries(answers), missing });
  });

  api('GET', 'rooms', async (_req, res) => {
    const { answers, missing } = await view.gather<RoomSummary[]>('rooms');
    sendJson(res, 200, { rooms: mergeRooms(answers), missing });
  });

  api('GET', 'lookup', async (_req, res, url) => {
    const query = (url.searchParams.get('q') ?? '').slice(0, 200);
    const { answers, missing } = await view.gather<RoomMembers[]>('lookup', { query });
    const instances = [...answers].map(([instance, rooms]) => ({ instance, rooms })).filter((i) => i.rooms.length > 0);
    sendJson(res, 200, { instances, missing });
  });

  api('GET', 'logs', async (_req, res) => {
    const { answers, missing } = await view.gather<RecentLogLine[]>('logs');
    const lines = [...answers].flatMap(([instance, list]) => list.map((l) => ({ instance, ...l })));
    lines.sort((a, b) => b.t - a.t);
    sendJson(res, 200, { lines: lines.slice(0, MAX_LOG_LINES), missing });
  });

  api('POST', 'disconnect', async (req, res) => {
    const body = await jsonBody(req, res);
    if (body === null) return;
    const connection = typeof body.connection === 'string' ? body.connection : '';
    if (!/^c[0-9a-z]{1,30}$/.test(connection)) return badRequest(res, 'Body must be {"connection": "<connection id>"}');
    const { answers } = await view.gather<{ disconnected: boolean }>('disconnect', { connection });
    const instance = [...answers].find(([, a]) => a.disconnected)?.[0] ?? null;
    log.warn({ conn: connection, instance, ip: req.socket.remoteAddress }, 'admin action: disconnect');
    sendJson(res, instance ? 200 : 404, { connection, disconnected: instance !== null, instance });
  });

  api('POST', 'notify', async (req, res) => {
    const body = await jsonBody(req, res);
    if (body === null) return;
    const roomId = typeof body.room === 'string' ? resolveRoom(body.room.trim()) : null;
    if (roomId === null) return badRequest(res, 'Body must be {"room": "<room id or session id>", "message"?: "…"}');
    const message = typeof body.message === 'string' && body.message.trim() !== '' ? body.message.slice(0, MAX_NOTIFICATION_CHARS) : 'Test notification from the admin view';
    source.notifyRoom(roomId, message);
    log.warn({ room: maskRoomId(roomId), ip: req.socket.remoteAddress }, 'admin action: test notification');
    sendJson(res, 202, { room: maskRoomId(roomId), kind: roomKind(roomId), sent: true });
  });

  api('POST', 'drain', async (req, res) => {
    const body = await jsonBody(req, res);
    if (body === null) return;
    const instance = typeof body.instance === 'string' ? body.instance : '';
    if (instance === '') return badRequest(res, 'Body must be {"instance": "<instance id>"}');
    log.warn({ instance, ip: req.socket.remoteAddress }, 'admin action: drain');
    const { answers } = await view.gather<{ draining: boolean }>('drain', undefined, instance);
    const accepted = answers.get(instance)?.draining === true;
    sendJson(res, accepted ? 202 : 504, { instance, draining: accepted, ...(accepted ? {} : { message: 'The instance did not answer' }) });
  });
}

/** A full room id, or a session id (its session room). Masked ids name no single room: null. */
function resolveRoom(text: string): string | null {
  if (text === '' || text.length > 300 || /(…|\.\.\.)$/.test(text)) return null;
  if ([SESSION_ROOM_PREFIX, USER_ROOM_PREFIX, ENTITY_ROOM_PREFIX].some((p) => text.startsWith(p))) return text;
  return sessionRoomId(text);
}

async function jsonBody(req: IncomingMessage, res: ServerResponse): Promise<Record<string, unknown> | null> {
  let text: string;
  try {
    text = await readBody(req, MAX_BODY_BYTES);
  } catch (err) {
    if (!(err instanceof BodyTooLarge)) throw err;
    sendJson(res, 413, { error: 'payload_too_large', message: `Body exceeds ${MAX_BODY_BYTES} bytes` }, { connection: 'close' });
    return null;
  }
  try {
    const body: unknown = JSON.parse(text);
    if (isPlainObject(body)) return body;
  } catch { /* answered below */ }
  badRequest(res, 'Body must be a JSON object');
  return null;
}

function badRequest(res: ServerResponse, message: string): void {
  sendJson(res, 400, { error: 'invalid_body', message });
}

/**
 * The cluster's chart: samples of all instances summed per 5-second bucket. Instances sample at
 * their own phase, so a bucket an instance has no sample in takes that instance's previous one
 * (a newest bucket would otherwise show only the instances that happened to sample already).
 */
export function aggregateSamples(perInstance: Sample[][]): Sample[] {
  const bucketOf = (t: number) => Math.floor(t / SAMPLE_BUCKET_MS) * SAMPLE_BUCKET_MS;
  const indexed = perInstance.map((samples) => new Map(samples.map((s) => [bucketOf(s.t), s])));
  const keys = [...new Set(indexed.flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
  return keys.map((key) => {
    const total: Sample = {
      t: key, connections: 0, messagesIn: 0, messagesOut: 0, deliveries: 0,
      drops: { rate_limit: 0, slow_consumer: 0, oversize: 0, forbidden_type: 0, undeliverable: 0 }, recovery: { recovered: 0, failed: 0 },
    };
    for (const byBucket of indexed) {
      const s = byBucket.get(key) ?? byBucket.get(key - SAMPLE_BUCKET_MS);
      if (!s) continue;
      total.connections += s.connections;
      total.messagesIn += s.messagesIn;
      total.messagesOut += s.messagesOut;
      total.deliveries += s.deliveries;
      for (const r of DROP_REASONS) total.drops[r] += s.drops[r];
      total.recovery.recovered += s.recovery?.recovered ?? 0; // an instance of an earlier version has none
      total.recovery.failed += s.recovery?.failed ?? 0;
    }
    return total;
  });
}

/**
 * One list for the cluster: members summed over instances; messages per minute is the largest
 * any instance counted (every instance sees every room message, members or not).
 */
function mergeRooms(answers: Map<string, RoomSummary[]>): Array<RoomSummary & { instances: number }> {
  const merged = new Map<string, RoomSummary & { instances: number }>();
  for (const list of answers.values()) {
    for (const r of list) {
      const m = merged.get(r.room);
      if (!m) merged.set(r.room, { ...r, instances: 1 });
      else {
        m.members += r.members;
        m.perMinute = Math.max(m.perMinute, r.perMinute);
        m.instances += 1;
      }
    }
  }
  return [...merged.values()].sort((a, b) => b.perMinute - a.perMinute || b.members - a.members).slice(0, 20);
}
