/**
 * The /websocket-test page: drives the served client (global `createWebSocketClient` from
 * client.js) and shows a live, filterable log of what goes in and out. Add `?debug=1` to the
 * address to let the client log to the console.
 */
import type { createWebSocketClient as CreateClient, WebSocketClient } from '../index.js';

declare global {
  interface Window { createWebSocketClient: typeof CreateClient }
}

type Direction = 'in' | 'out' | 'event';
interface Entry { direction: Direction; type: string; text: string; json: string; at: Date }

const MAX_ENTRIES = 1000;
const HEALTH_INTERVAL_MS = 3000;
const PING_TYPES = new Set(['ping', 'pong', 'server_ping', 'room_ping', 'room_ping_response']);

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} missing from the test page`);
  return element as T;
};

const input = (id: string) => $<HTMLInputElement>(id);
const entries: Entry[] = [];
const logList = $<HTMLOListElement>('log');

const debug = new URLSearchParams(location.search).has('debug');
const client: WebSocketClient = window.createWebSocketClient(null, { debug });
$('ws-url').textContent = client.url;

// ---- log ------------------------------------------------------------------------------------

function summarize(value: unknown): string {
  if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const message = obj.message ?? (obj.data as Record<string, unknown> | undefined)?.message;
    if (typeof message === 'string') return message;
    const { type: _type, timestamp: _timestamp, ...rest } = obj;
    return JSON.stringify(rest);
  }
  return String(value);
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function clock(at: Date): string {
  return `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}.${pad(at.getMilliseconds(), 3)}`;
}

function visible(entry: Entry): boolean {
  const direction = $<HTMLSelectElement>('log-direction').value;
  if (direction !== 'all' && entry.direction !== direction) return false;
  if (!input('log-pings').checked && PING_TYPES.has(entry.type)) return false;
  const filter = input('log-filter').value.trim().toLowerCase();
  return !filter || entry.type.toLowerCase().includes(filter) || entry.json.toLowerCase().includes(filter);
}

function render(entry: Entry): HTMLLIElement {
  const li = document.createElement('li');
  li.dataset.type = entry.type;
  li.dataset.direction = entry.direction;
  const details = document.createElement('details');
  const summary = document.createElement('summary');
  const cells: Array<[string, string]> = [
    [`time mono`, clock(entry.at)],
    [`dir ${entry.direction}`, entry.direction === 'in' ? '↓' : entry.direction === 'out' ? '↑' : '•'],
    [`type mono t-${entry.direction === 'event' ? 'event' : entry.type}`, entry.type],
    ['text', entry.text],
  ];
  for (const [className, text] of cells) {
    const span = document.createElement('span');
    span.className = className;
    span.textContent = text;
    summary.append(span);
  }
  const pre = document.createElement('pre');
  pre.className = 'mono';
  pre.textContent = entry.json;
  details.append(summary, pre);
  li.append(details);
  return li;
}

function refreshLog(): void {
  const shown = entries.filter(visible);
  logList.replaceChildren(...shown.map(render).reverse());
  $('log-count').textContent = String(shown.length);
  $('log-empty').hidden = shown.length > 0;
}

function record(direction: Direction, type: string, value: unknown): void {
  const entry: Entry = {
    direction, type, at: new Date(), text: summarize(value),
    json: typeof value === 'string' ? value : JSON.stringify(value, null, 2) ?? 'null',
  };
  entries.push(entry);
  if (entries.length > MAX_ENTRIES) entries.shift();
  if (!visible(entry)) return;
  logList.prepend(render(entry));
  while (logList.children.length > MAX_ENTRIES) logList.lastElementChild?.remove();
  $('log-count').textContent = String(logList.children.length);
  $('log-empty').hidden = true;
}

client.on('receive', (msg) => record('in', String(msg.type ?? '(no type)'), msg));
client.on('send', (msg) => record('out', String(msg.type ?? '(no type)'), msg));
client.on('raw', (text) => record('in', '(not JSON)', text));
client.on('connected', (msg) => record('event', 'connected', { roomId: msg.roomId ?? null }));
client.on('disconnected', (detail) => record('event', 'disconnected', detail));
client.on('reconnecting', () => record('event', 'reconnecting', { attempt: 'now' }));
client.on('recovered', (detail) => record('event', 'recovered', detail));
client.on('resync', (detail) => record('event', 'resync', detail));

// ---- controls -------------------------------------------------------------------------------

function updateButtons(): void {
  const state = client.getState();
  const open = state === 'open';
  $<HTMLButtonElement>('connect-btn').disabled = state === 'open' || state === 'connecting';
  $<HTMLButtonElement>('disconnect-btn').disabled = state === 'closed' || state === 'closing';
  for (const id of ['send-btn', 'partials-btn']) $<HTMLButtonElement>(id).disabled = !open;
}

/** Entity ids that are all digits are sent as numbers, as PorticoEstate pages do. */
function entityId(value: string): string | number {
  return /^\d+$/.test(value) ? Number(value) : value;
}

function renderSubscriptions(): void {
  const subscriptions = client.getSubscriptions();
  $('subscriptions').replaceChildren(...subscriptions.map(({ entityType, entityId: id }) => {
    const li = document.createElement('li');
    li.className = 'mono';
    li.textContent = `${entityType} #${id}`;
    return li;
  }));
  // The rooms a room_message can go to: the ones this page joined.
  $('room-ids').replaceChildren(...subscriptions.map(({ entityType, entityId: id }) => {
    const option = document.createElement('option');
    option.value = `entity_${entityType}_${id}`;
    return option;
  }));
}

// ---- send: chat, notification, room_message, session_message, entity_event ----------------

type SendType = 'chat' | 'notification' | 'room_message' | 'session_message' | 'entity_event';

function hint(text: string, bad = false): void {
  const element = $('send-hint');
  element.textContent = text;
  element.classList.toggle('bad', bad);
}

/** Mark `field` as the one to fix, say why, and send nothing. */
function refuse(field: HTMLInputElement, why: string): void {
  field.setAttribute('aria-invalid', 'true');
  field.focus();
  hint(why, true);
}

function showSendFields(): void {
  const type = $<HTMLSelectElement>('send-type').value;
  for (const row of document.querySelectorAll<HTMLElement>('#send-form [data-for]')) row.hidden = row.dataset.for !== type;
  const room = input('room-id-input');
  if (type === 'room_message' && !room.value) room.value = $('room-ids').querySelector('option')?.value ?? '';
  hint('');
}

/** The fields `type` needs besides the message, or null (and the field marked) when one is missing. */
function extraFields(type: SendType): Record<string, unknown> | null {
  if (type === 'room_message') {
    const roomId = input('room-id-input').value.trim();
    if (!roomId) return refuse(input('room-id-input'), 'Enter the room id (subscribe to an entity to join its room)'), null;
    return { roomId };
  }
  if (type === 'entity_event') {
    const entityType = input('event-type-input').value.trim();
    const id = input('event-id-input').value.trim();
    if (!entityType) return refuse(input('event-type-input'), 'Enter the entity type'), null;
    if (!id) return refuse(input('event-id-input'), 'Enter the entity id'), null;
    return { entityType, entityId: entityId(id) };
  }
  return {};
}

function send(): void {
  for (const field of document.querySelectorAll('#send-form [aria-invalid]')) field.removeAttribute('aria-invalid');
  const type = $<HTMLSelectElement>('send-type').value as SendType;
  const box = input('message-input');
  const text = box.value.trim();
  if (!text) return refuse(box, 'Type a message first');
  const extra = extraFields(type);
  if (!extra) return;
  if (!client.sendMessage(type, text, extra)) return hint('Not connected', true);
  box.value = '';
  hint(`Sent ${type}`);
}

$('connect-btn').addEventListener('click', () => client.connect());
$('disconnect-btn').addEventListener('click', () => client.close());
$('user-id-btn').addEventListener('click', () => {
  const value = input('user-id-input').value.trim();
  if (value) client.updateUserInfo(entityId(value));
});
$('session-id-btn').addEventListener('click', () => {
  const value = input('session-id-input').value.trim();
  if (value) client.updateSession(value);
});
$('send-form').addEventListener('submit', (event) => {
  event.preventDefault();
  send();
});
$('send-type').addEventListener('change', showSendFields);
// An error reply (room not joined, no session, …) is shown where the message was sent from.
client.on('receive', (msg) => {
  if (msg.type === 'error') hint(`${String(msg.code)}: ${String(msg.message)}`, true);
});
$('subscribe-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const type = input('entity-type-input').value.trim();
  const id = input('entity-id-input').value.trim();
  if (!type || !id) return;
  client.subscribe(type, entityId(id));
  renderSubscriptions();
});
$('unsubscribe-btn').addEventListener('click', () => {
  const type = input('entity-type-input').value.trim();
  const id = input('entity-id-input').value.trim();
  if (!type || !id) return;
  client.unsubscribe(type, entityId(id));
  renderSubscriptions();
});
$('partials-btn').addEventListener('click', () => {
  const summary = $('partials-summary');
  summary.textContent = 'Waiting for the response…';
  client.getPartialApplications().then(
    (data) => { summary.textContent = data.error ? `Error: ${data.message}` : `${data.count} application(s)`; },
    (err: Error) => { summary.textContent = `Failed: ${err.message}`; },
  );
});
for (const id of ['log-filter', 'log-direction', 'log-pings']) $(id).addEventListener('input', refreshLog);
$('log-clear').addEventListener('click', () => { entries.length = 0; refreshLog(); });

for (const name of ['connected', 'disconnected', 'reconnecting'] as const) client.on(name, updateButtons);
client.on('receive', () => { if (client.getState() === 'open') updateButtons(); });
// `open` is not an event of its own; the status element changes with every state.
new MutationObserver(updateButtons).observe($('connection-status'), { attributes: true, childList: true, characterData: true, subtree: true });
updateButtons();

// ---- connection count from /health ---------------------------------------------------------

async function pollHealth(): Promise<void> {
  try {
    const response = await fetch('health', { cache: 'no-store' });
    const report = (await response.json()) as { clients?: number };
    $('health-clients').textContent = typeof report.clients === 'number' ? String(report.clients) : '–';
  } catch {
    $('health-clients').textContent = '–';
  }
}
// Asked when this page's own connection opens or closes (so the count never shows it missing),
// and every few seconds for everyone else's.
void pollHealth();
client.on('connected', () => void pollHealth());
client.on('disconnected', () => void pollHealth());
setInterval(() => void pollHealth(), HEALTH_INTERVAL_MS);
