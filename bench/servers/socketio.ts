/**
 * Peer: Socket.IO 4.8 with `@socket.io/redis-adapter`, websocket transport only. Each instance
 * subscribes to `notifications` itself, so it emits locally (`io.local`), as portico-ws delivers
 * Redis-sourced messages on its own instance only.
 */
import http from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { exitOnSignal, PORT, REDIS_PORT, route, sessionFromCookie, subscribeNotifications } from './common.js';

const httpServer = http.createServer();
const pub = new Redis({ host: '127.0.0.1', port: REDIS_PORT });
const sub = pub.duplicate();
const io = new Server(httpServer, { transports: ['websocket'], serveClient: false, adapter: createAdapter(pub, sub) });

io.on('connection', (socket) => {
  const session = sessionFromCookie(socket.handshake.headers.cookie);
  if (session) void socket.join(`s:${session}`);
  socket.emit('connection_success', { message: 'Successfully connected to WebSocket server', roomId: session, timestamp: new Date().toISOString() });
});

await new Promise<void>((resolve) => httpServer.listen(PORT, '127.0.0.1', resolve));

await subscribeNotifications((text) => {
  const r = route(text);
  if (!r) return;
  if (r.session) io.local.to(`s:${r.session}`).emit('notification', r.message);
  else io.local.emit('notification', r.message);
});
exitOnSignal();
