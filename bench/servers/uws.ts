/**
 * Peer: uWebSockets.js (`@trufflesuite/uws-js-unofficial`), topics `all` and `s:<session>`,
 * delivered with `app.publish` — the ceiling for a Node process.
 */
import uWS from '@trufflesuite/uws-js-unofficial';
import { exitOnSignal, greeting, PORT, route, sessionFromCookie, subscribeNotifications } from './common.js';

interface UserData { session: string | null }

const app = uWS.App();
app.ws<UserData>('/*', {
  compression: 0,
  maxPayloadLength: 64 * 1024,
  maxBackpressure: 4 * 1024 * 1024,
  idleTimeout: 0,
  upgrade: (res, req, context) => {
    const session = sessionFromCookie(req.getHeader('cookie') || undefined);
    res.upgrade<UserData>({ session }, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
  },
  open: (ws) => {
    const { session } = ws.getUserData();
    ws.subscribe('all');
    if (session) ws.subscribe(`s:${session}`);
    ws.send(greeting(session), false);
  },
});

await new Promise<void>((resolve, reject) => app.listen('127.0.0.1', PORT, (token) => (token ? resolve() : reject(new Error(`uWS could not listen on ${PORT}`)))));

await subscribeNotifications((text) => {
  const r = route(text);
  if (!r) return;
  app.publish(r.session ? `s:${r.session}` : 'all', r.text, false);
});
exitOnSignal();
