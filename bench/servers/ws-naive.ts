/** Peer: bare `ws`, one `send(string)` per client per message (what most hand-written servers do). */
import { WebSocketServer, type WebSocket } from 'ws';
import { exitOnSignal, greeting, PORT, route, SessionRooms, sessionFromCookie, subscribeNotifications } from './common.js';

const wss = new WebSocketServer({ host: '127.0.0.1', port: PORT, perMessageDeflate: false });
const rooms = new SessionRooms<WebSocket>();

wss.on('connection', (ws, req) => {
  const session = sessionFromCookie(req.headers.cookie);
  if (session) {
    rooms.join(session, ws);
    ws.on('close', () => rooms.leave(session, ws));
  }
  ws.on('error', () => {});
  ws.send(greeting(session));
});

await subscribeNotifications((text) => {
  const r = route(text);
  if (!r) return;
  const targets = r.session ? rooms.members(r.session) : wss.clients;
  for (const ws of targets) if (ws.readyState === 1) ws.send(r.text);
});
exitOnSignal();
