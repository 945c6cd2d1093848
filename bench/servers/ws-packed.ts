/**
 * Peer: bare `ws` done the fast way. Each message is framed once (one Buffer, header + payload);
 * frames for a socket are queued and written in one `socket.write` per socket per event-loop
 * turn (setImmediate), bypassing `ws.send`'s per-call framing and cork/uncork.
 */
import type { Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import { exitOnSignal, greeting, PORT, route, SessionRooms, sessionFromCookie, subscribeNotifications } from './common.js';

interface Client { socket: Socket; open: boolean; pending: Buffer[] }

const wss = new WebSocketServer({ host: '127.0.0.1', port: PORT, perMessageDeflate: false, clientTracking: false });
const clients = new Set<Client>();
const rooms = new SessionRooms<Client>();
const dirty: Client[] = [];
let scheduled = false;

function frame(text: string): Buffer {
  const len = Buffer.byteLength(text);
  const hl = len < 126 ? 2 : len < 65_536 ? 4 : 10;
  const buf = Buffer.allocUnsafe(hl + len);
  buf[0] = 0x81;
  if (hl === 2) buf[1] = len;
  else if (hl === 4) { buf[1] = 126; buf.writeUInt16BE(len, 2); }
  else { buf[1] = 127; buf.writeUInt32BE(0, 2); buf.writeUInt32BE(len, 6); }
  buf.write(text, hl);
  return buf;
}

function flush(): void {
  scheduled = false;
  for (let i = 0; i < dirty.length; i++) {
    const c = dirty[i]!;
    const p = c.pending;
    if (c.open) c.socket.write(p.length === 1 ? p[0]! : Buffer.concat(p));
    p.length = 0;
  }
  dirty.length = 0;
}

function queue(c: Client, buf: Buffer): void {
  if (!c.open) return;
  if (c.pending.push(buf) === 1) dirty.push(c);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
}

wss.on('connection', (ws, req) => {
  const session = sessionFromCookie(req.headers.cookie);
  const client: Client = { socket: req.socket, open: true, pending: [] };
  clients.add(client);
  if (session) rooms.join(session, client);
  ws.on('close', () => {
    client.open = false;
    clients.delete(client);
    if (session) rooms.leave(session, client);
  });
  ws.on('error', () => {});
  ws.send(greeting(session));
});

await subscribeNotifications((text) => {
  const r = route(text);
  if (!r) return;
  const buf = frame(r.text);
  for (const c of r.session ? rooms.members(r.session) : clients) queue(c, buf);
});
exitOnSignal();
