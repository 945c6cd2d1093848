/**
 * The admin page: asks for the token (or takes it from `#token=`), keeps it in sessionStorage,
 * and polls the gateway's /admin/api/ endpoints. Everything is drawn with the DOM and plain SVG;
 * text from the server is only ever set as textContent.
 */

interface Instance {
  id: string; status: 'ok' | 'degraded' | 'not answering'; lastAnswerAt: number;
  clients?: number; uptime?: number; version?: string; draining?: boolean; redis?: string; database?: string;
  spool?: unknown; identity?: { mode: string; state: string }; subscribeAuth?: string;
  rooms?: Record<string, number>; eventLoop?: { meanMs: number; p99Ms: number; maxMs: number };
  memory?: { rssBytes: number; heapUsedBytes: number };
}
interface Sample { t: number; connections: number; messagesIn: number; messagesOut: number; deliveries: number; drops: Record<string, number>; recovery?: { recovered: number; failed: number } }
interface RoomRow { room: string; kind: string; members: number; perMinute: number; instances: number }
interface Member { connection: string; session: string | null; user: boolean; ip: string; rooms: number }
interface LookupAnswer { instances: Array<{ instance: string; rooms: Array<{ room: string; kind: string; members: Member[]; more: number }> }>; missing: string[] }
interface LogLine { instance: string; t: number; level: string; msg: string; detail: string }

const TOKEN_KEY = 'portico-ws-admin-token';
const POLL_MS = 3000;
const WINDOW_MS = 15 * 60_000;
const COLORS = ['#2f6fde', '#1f9d55', '#c98a06', '#d64545', '#8e44ad', '#16a3b8'];

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

let token = takeToken();

function takeToken(): string | null {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (match) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]!));
    history.replaceState(null, '', location.pathname + location.search); // out of the address bar and history
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

class Unauthorized extends Error {}

/** `/admin/api/` (also when the page was opened as `/admin` without the slash). */
const API_BASE = `${location.pathname.replace(/\/?$/, '/')}api/`;

async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(`${API_BASE}${path}`, { ...init, headers: { ...(init.headers ?? {}), authorization: `Bearer ${token ?? ''}`, 'content-type': 'application/json' }, cache: 'no-store' });
  if (res.status === 401) throw new Unauthorized();
  const body = (await res.json()) as T & { message?: string };
  if (!res.ok && res.status !== 404 && res.status !== 504) throw new Error(body.message ?? `HTTP ${res.status}`);
  return body;
}

const post = <T>(path: string, body: object): Promise<T> => api<T>(path, { method: 'POST', body: JSON.stringify(body) });

function showLogin(message = ''): void {
  $('login').hidden = false;
  $('main').hidden = true;
  $('login-error').textContent = message;
}

$('login').addEventListener('submit', (e) => {
  e.preventDefault();
  token = $<HTMLInputElement>('token').value.trim();
  sessionStorage.setItem(TOKEN_KEY, token);
  void refresh(true);
});

// ---- formatting ----
const fmtNum = (n: number | undefined): string => (n === undefined ? '–' : n >= 100 ? Math.round(n).toLocaleString('en') : String(Math.round(n * 10) / 10));
const fmtBytes = (b: number | undefined): string => (b === undefined ? '–' : `${Math.round(b / 1048576)} MB`);
function fmtUptime(s: number | undefined): string {
  if (s === undefined) return '–';
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  return d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : `${m}m ${s % 60}s`;
}
const clock = (t: number): string => new Date(t).toLocaleTimeString('en-GB');
const statusClass = (s: string): string => s.replace(/\s+/g, '-');

// ---- instances ----
function renderInstances(instances: Instance[]): void {
  const box = $('instances');
  box.replaceChildren(...instances.map((i) => {
    const rooms = i.rooms ? Object.entries(i.rooms).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`).join(', ') || 'none' : '–';
    const spool = typeof i.spool === 'string' ? i.spool : i.spool ? 'enabled' : '–';
    const rows: Array<[string, string]> = [
      ['rooms', rooms], ['uptime', fmtUptime(i.uptime)], ['version', i.version ?? '–'],
      ['redis', i.redis ?? '–'], ['database', i.database ?? '–'], ['spool', spool],
      ['identity', i.identity ? `${i.identity.mode} (${i.identity.state})` : '–'],
      ['event loop', i.eventLoop ? `${i.eventLoop.meanMs} ms mean, ${i.eventLoop.p99Ms} p99` : '–'],
      ['memory', `${fmtBytes(i.memory?.rssBytes)} rss, ${fmtBytes(i.memory?.heapUsedBytes)} heap`],
    ];
    if (i.status === 'not answering') rows.unshift(['last answer', clock(i.lastAnswerAt)]);
    const drain = el('button', { class: 'btn small danger', type: 'button' }, i.draining ? 'draining…' : 'Drain');
    drain.disabled = i.status === 'not answering' || i.draining === true;
    drain.addEventListener('click', () => void drainInstance(i.id));
    const dl = el('dl', {}, ...rows.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
    return el('article', { class: `card instance ${statusClass(i.status)}`, 'data-instance': i.id },
      el('h3', {}, el('code', {}, i.id), el('span', { class: `pill ${statusClass(i.status)}` }, i.draining && i.status !== 'not answering' ? 'draining' : i.status)),
      el('div', {}, el('span', { class: 'clients', 'data-clients': i.id }, fmtNum(i.clients)), el('span', { class: 'muted' }, ' clients')),
      dl, drain);
  }));
  const sel = $<HTMLSelectElement>('log-instance');
  const chosen = sel.value;
  sel.replaceChildren(el('option', { value: '' }, 'all instances'), ...instances.map((i) => el('option', { value: i.id }, i.id)));
  sel.value = chosen;
  const answering = instances.filter((i) => i.status !== 'not answering');
  const total = (f: (i: Instance) => number | undefined) => answering.reduce((n, i) => n + (f(i) ?? 0), 0);
  const t = (value: string, label: string) => el('div', { class: 'total' }, el('b', {}, value), el('span', {}, label));
  $('totals').replaceChildren(
    t(`${answering.length}/${instances.length}`, 'instances up'),
    el('div', { class: 'total', id: 'total-clients' }, el('b', {}, fmtNum(total((i) => i.clients))), el('span', {}, 'clients')),
    t(fmtNum(total((i) => (i.rooms ? Object.values(i.rooms).reduce((a, b) => a + b, 0) : 0))), 'rooms'),
  );
}

async function drainInstance(id: string): Promise<void> {
  if (!confirm(`Drain ${id}?\n\nIt stops accepting connections, closes every client with 1012 (they reconnect to another instance) and exits.`)) return;
  const r = await post<{ draining: boolean; message?: string }>('drain', { instance: id });
  alert(r.draining ? `${id} is draining.` : `${id}: ${r.message ?? 'not drained'}`);
  void refresh();
}

// ---- charts ----
interface Series { label: string; values: Array<[number, number]> }

/** The charts' time span: the last 15 minutes, or since the oldest sample when the cluster is younger (at least 2 minutes). */
let span = WINDOW_MS;

function drawChart(id: string, title: string, unit: string, series: Series[]): void {
  const fig = $(id);
  // Drawn at the figure's own width, so text and lines keep their proportions from 390 px up.
  const W = Math.max(240, Math.round(fig.clientWidth - 24)), H = 140, L = 34, B = 16, now = Date.now(), from = now - span;
  const max = Math.max(1, ...series.flatMap((s) => s.values.map(([, v]) => v)));
  const top = niceCeil(max);
  const x = (t: number) => L + ((t - from) / span) * (W - L - 4);
  const y = (v: number) => 6 + (1 - v / top) * (H - B - 6);
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': title });
  for (const frac of [0, 0.5, 1]) {
    root.append(svg('line', { class: 'axis', x1: L, x2: W, y1: y(top * frac), y2: y(top * frac) }));
    const label = svg('text', { x: L - 4, y: y(top * frac) + 3, 'text-anchor': 'end' });
    label.textContent = fmtNum(top * frac);
    root.append(label);
  }
  for (const frac of [1, 2 / 3, 1 / 3, 0]) {
    const ago = span * frac;
    const t = svg('text', { x: x(now - ago), y: H - 3, 'text-anchor': frac === 0 ? 'end' : frac === 1 ? 'start' : 'middle' });
    t.textContent = frac === 0 ? 'now' : `-${ago >= 120_000 ? `${Math.round(ago / 60_000)} min` : `${Math.round(ago / 1000)} s`}`;
    root.append(t);
  }
  series.forEach((s, i) => {
    const pts = s.values.filter(([t]) => t >= from).map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`);
    if (pts.length === 0) return;
    if (pts.length === 1) pts.push(pts[0]!.replace(/^[\d.]+/, (v) => String(Number(v) + 2)));
    root.append(svg('polyline', { points: pts.join(' '), fill: 'none', stroke: COLORS[i % COLORS.length]!, 'stroke-width': 2, 'vector-effect': 'non-scaling-stroke', 'stroke-linejoin': 'round' }));
  });
  const latest = series.map((s) => s.values.at(-1)?.[1] ?? 0);
  const legend = el('span', { class: 'legend' }, ...series.map((s, i) => el('span', {}, el('i', { style: `background:${COLORS[i % COLORS.length]}` }), `${s.label} ${fmtNum(latest[i])}`)));
  fig.replaceChildren(el('figcaption', {}, el('span', {}, `${title}`, el('span', { class: 'muted' }, unit ? ` (${unit})` : '')), legend), root);
}

function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

const DROP_LABELS: Record<string, string> = { rate_limit: 'rate limit', slow_consumer: 'slow consumer', oversize: 'oversize', forbidden_type: 'forbidden type', undeliverable: 'no recipient' };

function renderCharts(samples: Sample[], reasons: string[]): void {
  const oldest = samples[0]?.t ?? Date.now();
  span = Math.min(WINDOW_MS, Math.max(2 * 60_000, Date.now() - oldest));
  $('chart-span').textContent = span >= WINDOW_MS ? 'Last 15 minutes' : `Last ${Math.round(span / 60_000)} minutes (since the oldest instance started)`;
  const pick = (f: (s: Sample) => number): Array<[number, number]> => samples.map((s) => [s.t, f(s)]);
  drawChart('chart-connections', 'Connections', '', [{ label: 'open', values: pick((s) => s.connections) }]);
  drawChart('chart-messages', 'Messages', 'per second', [{ label: 'in', values: pick((s) => s.messagesIn) }, { label: 'out', values: pick((s) => s.messagesOut) }]);
  drawChart('chart-deliveries', 'Deliveries', 'per second', [{ label: 'delivered', values: pick((s) => s.deliveries) }]);
  drawChart('chart-drops', 'Drops by reason', 'per second', reasons.map((r) => ({ label: DROP_LABELS[r] ?? r, values: pick((s) => s.drops[r] ?? 0) })));
  drawChart('chart-recovery', 'Recovery after reconnect', 'per second', [
    { label: 'recovered', values: pick((s) => s.recovery?.recovered ?? 0) }, { label: 'not recovered', values: pick((s) => s.recovery?.failed ?? 0) },
  ]);
}

// ---- rooms, lookup, notify ----
function renderRooms(rooms: RoomRow[]): void {
  const tbody = $('rooms').querySelector('tbody')!;
  if (rooms.length === 0) {
    tbody.replaceChildren(el('tr', {}, el('td', { colspan: '5', class: 'muted' }, 'No rooms with members.')));
    return;
  }
  tbody.replaceChildren(...rooms.map((r) => {
    const link = el('a', { href: '#' }, r.room);
    link.addEventListener('click', (e) => { e.preventDefault(); $<HTMLInputElement>('lookup-q').value = r.room; void lookup(); });
    return el('tr', {}, el('td', {}, link), el('td', {}, r.kind), el('td', { class: 'num' }, String(r.members)), el('td', { class: 'num' }, String(r.perMinute)), el('td', { class: 'num' }, String(r.instances)));
  }));
}

async function lookup(): Promise<void> {
  const q = $<HTMLInputElement>('lookup-q').value.trim();
  const out = $('lookup-result');
  const r = await api<LookupAnswer>(`lookup?q=${encodeURIComponent(q)}`);
  if (r.instances.length === 0) {
    out.replaceChildren(el('p', { class: 'muted' }, 'No such room has members on any instance.'));
    return;
  }
  out.replaceChildren(...r.instances.flatMap((i) => i.rooms.map((room) => el('div', {},
    el('p', {}, el('code', {}, room.room), ` on `, el('code', {}, i.instance), ` · ${room.members.length + room.more} member(s)`),
    el('ul', { class: 'members' }, ...room.members.map((m) => {
      const btn = el('button', { class: 'btn small danger', type: 'button' }, 'Disconnect');
      btn.addEventListener('click', () => void disconnect(m.connection));
      return el('li', {}, el('span', {}, el('code', {}, m.connection), ` ${m.session ?? 'no session'}${m.user ? ' · user' : ''} · ${m.ip}`), btn);
    }))))));
}

async function disconnect(connection: string): Promise<void> {
  if (!confirm(`Disconnect ${connection}?`)) return;
  const r = await post<{ disconnected: boolean; instance: string | null }>('disconnect', { connection });
  alert(r.disconnected ? `${connection} disconnected on ${r.instance}.` : `${connection} was not found (already gone?).`);
  void lookup();
}

$('lookup').addEventListener('submit', (e) => { e.preventDefault(); void lookup(); });
$('notify').addEventListener('submit', (e) => {
  e.preventDefault();
  const room = $<HTMLInputElement>('notify-room').value.trim();
  const message = $<HTMLInputElement>('notify-message').value;
  if (!confirm(`Send a test notification to ${room}?`)) return;
  void post<{ room?: string; message?: string }>('notify', { room, message }).then((r) => {
    $('notify-result').textContent = r.room ? `Sent to ${r.room}.` : (r.message ?? 'Not sent.');
  }, (err: Error) => { $('notify-result').textContent = err.message; });
});

// ---- logs ----
let logLines: LogLine[] = [];
function renderLogs(): void {
  const level = $<HTMLSelectElement>('log-level').value;
  const instance = $<HTMLSelectElement>('log-instance').value;
  const text = $<HTMLInputElement>('log-text').value.toLowerCase();
  const shown = logLines.filter((l) => (!level || (level === 'error' ? l.level !== 'warn' : l.level === level))
    && (!instance || l.instance === instance) && (!text || `${l.msg} ${l.detail}`.toLowerCase().includes(text)));
  const list = $('logs');
  if (shown.length === 0) {
    list.replaceChildren(el('li', { class: 'muted' }, logLines.length === 0 ? 'No warnings or errors. ' : 'Nothing matches the filter.'));
    return;
  }
  list.replaceChildren(...shown.map((l) => el('li', {},
    el('span', { class: 'muted' }, `${clock(l.t)} `), el('span', { class: `lvl ${l.level}` }, l.level.toUpperCase()),
    el('code', {}, l.instance), ` ${l.msg}`, l.detail ? el('span', { class: 'detail' }, l.detail) : '')));
}
for (const id of ['log-level', 'log-instance', 'log-text']) $(id).addEventListener('input', renderLogs);

// ---- polling ----
let timer: number | undefined;
let tick = 0;

async function refresh(fromLogin = false): Promise<void> {
  clearTimeout(timer);
  if (!token) return showLogin();
  try {
    const [cluster, samples, rooms] = await Promise.all([
      api<{ self: string; instances: Instance[] }>('cluster'),
      api<{ total: Sample[]; dropReasons: string[] }>('samples'),
      api<{ rooms: RoomRow[] }>('rooms'),
    ]);
    if (tick++ % 3 === 0 || fromLogin) {
      logLines = (await api<{ lines: LogLine[] }>('logs')).lines;
      renderLogs();
    }
    $('login').hidden = true;
    $('main').hidden = false;
    $('self').textContent = cluster.self;
    $('updated').textContent = `updated ${clock(Date.now())}`;
    renderInstances(cluster.instances);
    renderCharts(samples.total, samples.dropReasons);
    renderRooms(rooms.rooms);
  } catch (err) {
    if (err instanceof Unauthorized) {
      sessionStorage.removeItem(TOKEN_KEY);
      token = null;
      return showLogin(fromLogin ? 'Wrong token.' : 'The token was refused; enter it again.');
    }
    $('updated').textContent = `update failed at ${clock(Date.now())}: ${(err as Error).message}`;
  }
  timer = window.setTimeout(() => void refresh(), POLL_MS);
}

void refresh();
