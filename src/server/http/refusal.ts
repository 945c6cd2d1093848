/**
 * Refusing a request one of the front doors will not serve (path, origin, capacity, per-address
 * cap): the same status and JSON body whether it came as a WebSocket upgrade or a plain request.
 */
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { UpgradeRefusal } from '../policy/upgrade-policy.js';

function refusalBody({ reason, statusText }: UpgradeRefusal): string {
  return JSON.stringify({ error: reason, message: statusText });
}

/** Answer an upgrade request on its raw socket, then let the socket go. */
export function refuseUpgrade(socket: Duplex, refusal: UpgradeRefusal): void {
  const body = refusalBody(refusal);
  // Node's HTTP server drops its own 'error' listener on upgrade sockets: without this one, a
  // peer resetting while the refusal is written would be an uncaught exception (process exit).
  socket.on('error', () => socket.destroy());
  // Once the refusal is written, let go of the socket (as ws's own refusals do): a peer that
  // never closes its side would otherwise hold it, and a file descriptor, for good.
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${refusal.status} ${refusal.statusText}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

/** Answer a plain HTTP request (Socket.IO polling). */
export function refuseRequest(res: ServerResponse, refusal: UpgradeRefusal): void {
  res.writeHead(refusal.status, { 'Content-Type': 'application/json' }).end(refusalBody(refusal));
}
