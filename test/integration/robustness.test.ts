/** Bad or hostile peers get a clear refusal and cost the gateway nothing; everyone else keeps being served. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/server/config/index.js';
import { startTestGateway } from '../helpers/gateway.js';
import { quietWindow, waitFor } from '../helpers/wait.js';
import { TestClient } from '../helpers/ws-client.js';
import { FAILED_DIR, WORK_DIR } from '../../src/server/ingress/spool.js';

const until = (check: () => boolean, ms = 15_000): Promise<void> => waitFor(check, 'the spool folder to reach the expected state', ms);

const UPGRADE = (path: string, extraHeaders = '') =>
  `GET ${path} HTTP/1.1\r\nHost: x\r\n${extraHeaders}Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;

test('peers resetting the connection while their upgrade is refused do not crash the gateway', async () => {
  const gw = await startTestGateway();
  const crashes: Error[] = [];
  const onUncaught = (err: Error) => crashes.push(err);
  process.on('uncaughtException', onUncaught);
  try {
    const resets = Array.from({ length: 200 }, () => new Promise<void>((resolve) => {
      const socket = net.connect(gw.port, '127.0.0.1');
      socket.on('error', () => resolve());
      socket.on('close', () => resolve());
      socket.on('connect', () => {
        // A refused path with a large tail: the refusal is written while the peer resets.
        socket.write(UPGRADE('/not-a-websocket-path') + 'x'.repeat(100_000));
        socket.resetAndDestroy();
      });
    }));
    await Promise.all(resets);
    // A crash would come from writing a refusal to a reset socket: wait until the server has let
    // go of every one of them, then a short "nothing else happened" window for late errors.
    const open = () => new Promise<number>((resolve) => gw.gateway.server.getConnections((_e, n) => resolve(n)));
    await waitFor(async () => (await open()) === 0, 'the server to release every reset socket');
    await quietWindow(100);
    assert.deepEqual(crashes.map((e) => e.message), [], 'no uncaught exception');
    const client = await TestClient.connect(gw.url);
    client.send({ type: 'ping', id: 'still-here' });
    assert.equal((await client.ofType('pong')).reply_to, 'still-here');
    client.close();
  } finally {
    process.off('uncaughtException', onUncaught);
    await gw.close();
  }
});

/** Complete a WebSocket upgrade on a raw socket that then never reads or answers (a dead peer). */
function deadPeer(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    socket.once('connect', () => socket.write(UPGRADE('/wss')));
    socket.once('data', (d) => {
      if (!d.toString().startsWith('HTTP/1.1 101')) return reject(new Error(`upgrade failed: ${d.toString().split('\r\n')[0]}`));
      socket.pause();
      resolve(socket);
    });
  });
}

test('a spool file written while the gateway waits for its connections to close is left for the next start', async () => {
  const gw = await startTestGateway({ timers: { shutdownTimeoutMs: 4000 } });
  const peer = await deadPeer(gw.port);
  let closing: Promise<void> | null = null;
  try {
    closing = gw.close();
    // The dead peer never answers the close frame, so shutdown waits up to its timeout; every
    // connection is closing meanwhile and a file consumed now would reach nobody.
    await waitFor(() => gw.gateway.connections.size === 1 && [...gw.gateway.connections].every((c) => c.closing), 'every connection to be closing');
    const name = `websocket_notification_${Date.now()}.1.json`;
    fs.writeFileSync(path.join(gw.spoolDir, name), JSON.stringify({ type: 'notification', message: 'during shutdown' }));
    // A window in which nothing may happen: it spans several scan intervals (200 ms) and the watcher's event.
    await quietWindow(1000);
    assert.ok(fs.existsSync(path.join(gw.spoolDir, name)), 'the file is still in the spool folder');
    await closing;
    assert.ok(fs.existsSync(path.join(gw.spoolDir, name)), 'still there after shutdown');

    const next = await startTestGateway({ spool: { dir: gw.spoolDir } });
    try {
      // The next start picks it up (and delivers it to whoever is connected by then).
      await until(() => !fs.existsSync(path.join(gw.spoolDir, name)));
      assert.deepEqual(fs.readdirSync(path.join(gw.spoolDir, FAILED_DIR)), []);
    } finally {
      await next.close();
    }
  } finally {
    peer.destroy();
    await closing;
  }
});

test('spool keeps delivering with an instance id containing "/" or "@" and after its work folders were removed', async () => {
  const gw = await startTestGateway({ instanceId: 'portico/ws@node-1' });
  try {
    const client = await TestClient.connect(gw.url);
    fs.writeFileSync(path.join(gw.spoolDir, `websocket_notification_${Date.now()}.1.json`), JSON.stringify({ type: 'notification', message: 'odd instance id' }));
    assert.equal((await client.next((m) => m.message === 'odd instance id', 5000)).source, 'spool');

    // A /tmp cleaner (systemd-tmpfiles) may remove the idle, empty work folders.
    fs.rmSync(path.join(gw.spoolDir, WORK_DIR), { recursive: true });
    fs.writeFileSync(path.join(gw.spoolDir, `websocket_notification_${Date.now()}.2.json`), JSON.stringify({ type: 'notification', message: 'after cleanup' }));
    assert.equal((await client.next((m) => m.message === 'after cleanup', 5000)).source, 'spool');
    fs.writeFileSync(path.join(gw.spoolDir, `websocket_notification_${Date.now()}.3.json`), 'not json');
    await until(() => fs.existsSync(path.join(gw.spoolDir, FAILED_DIR)) && fs.readdirSync(path.join(gw.spoolDir, FAILED_DIR)).length === 1);
    client.close();
  } finally {
    await gw.close();
  }
});

/** Send raw bytes and collect the reply until the server closes (or `ms` passes). */
function rawExchange(port: number, bytes: string, ms = 3000): Promise<string> {
  return new Promise((resolve) => {
    let reply = '';
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    const timer = setTimeout(() => { socket.destroy(); resolve(reply); }, ms);
    socket.on('data', (d) => { reply += d.toString(); });
    socket.on('error', () => {});
    socket.on('close', () => { clearTimeout(timer); resolve(reply); });
  });
}

test('a malformed HTTP request is answered 400 and oversized headers 431, not dropped without a word', async () => {
  const gw = await startTestGateway();
  try {
    assert.match(await rawExchange(gw.port, 'GET /health HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n'), /^HTTP\/1\.1 400 /);
    assert.match(await rawExchange(gw.port, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`), /^HTTP\/1\.1 431 /);
    assert.match(await rawExchange(gw.port, 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 200 /);
  } finally {
    await gw.close();
  }
});

test('a refused upgrade releases its socket even when the peer never closes its side', async () => {
  const gw = await startTestGateway({ limits: { allowedOrigins: ['https://booking.example'] } });
  const peers: net.Socket[] = [];
  try {
    const replies = await Promise.all(['/nope', '/wss'].map((target) => new Promise<string>((resolve) => {
      // allowHalfOpen: the peer keeps its side open after the server's FIN, as a hostile one would.
      const socket = net.connect({ port: gw.port, host: '127.0.0.1', allowHalfOpen: true });
      peers.push(socket);
      socket.on('error', () => {});
      socket.once('data', (d) => resolve(d.toString().split('\r\n')[0]!));
      socket.write(UPGRADE(target, 'Origin: https://evil.example\r\n'));
    })));
    assert.deepEqual(replies, ['HTTP/1.1 404 Not Found', 'HTTP/1.1 403 Forbidden']);
    const open = () => new Promise<number>((resolve) => gw.gateway.server.getConnections((_e, n) => resolve(n)));
    await waitFor(async () => (await open()) === 0, 'the server to release the refused sockets');
  } finally {
    for (const p of peers) p.destroy();
    await gw.close();
  }
});

test('a spool claim timeout not above the settle time is refused at start-up, naming the variable', () => {
  // Otherwise another gateway sharing the folder takes back a file that is still settling.
  assert.throws(
    () => loadConfig({ WSS_SPOOL_SETTLE_MS: '5000', WSS_SPOOL_CLAIM_TIMEOUT_MS: '2000' }),
    (err: unknown) => err instanceof ConfigError && err.variable === 'WSS_SPOOL_CLAIM_TIMEOUT_MS' && /WSS_SPOOL_SETTLE_MS/.test(err.message),
  );
  assert.equal(loadConfig({ WSS_SPOOL_SETTLE_MS: '5000', WSS_SPOOL_CLAIM_TIMEOUT_MS: '5001' }).spool.claimTimeoutMs, 5001);
});
