import assert from 'node:assert/strict';
import { test } from 'node:test';
import WebSocket from 'ws';
import { startTestGateway } from '../helpers/gateway.js';
import { waitFor, withDeadline } from '../helpers/wait.js';
import { TestClient } from '../helpers/ws-client.js';

test('oversize message closes with 1009; others keep being served', async () => {
  const gw = await startTestGateway({ limits: { maxMessageBytes: 1024 } });
  try {
    const big = await TestClient.connect(gw.url);
    const other = await TestClient.connect(gw.url);
    big.send({ type: 'chat', message: 'x'.repeat(2000) });
    assert.equal(await big.waitClosed(), 1009);
    other.send({ type: 'ping', id: 'ok' });
    assert.equal((await other.ofType('pong')).reply_to, 'ok');
    assert.ok(await other.expectNone((m) => m.type === 'chat'), 'oversize message not relayed');
    other.close();
  } finally {
    await gw.close();
  }
});

test('flooding → RATE_LIMITED, sustained flooding → close 1008', async () => {
  const gw = await startTestGateway({ limits: { ratePerSecond: 5, rateBurst: 5, rateCloseAfter: 30 } });
  try {
    const c = await TestClient.connect(gw.url);
    for (let i = 0; i < 10; i++) c.send({ type: 'ping', id: `f${i}` });
    assert.equal((await c.ofType('error')).code, 'RATE_LIMITED');
    assert.ok(c.count((m) => m.type === 'pong') <= 6);
    for (let i = 0; i < 100; i++) c.send({ type: 'ping' });
    assert.equal(await c.waitClosed(), 1008);
  } finally {
    await gw.close();
  }
});

test('max connections → upgrade refused with 503', async () => {
  const gw = await startTestGateway({ limits: { maxConnections: 2 } });
  try {
    const a = await TestClient.connect(gw.url);
    const b = await TestClient.connect(gw.url);
    await assert.rejects(TestClient.connect(gw.url), /HTTP 503/);
    a.close();
    await a.waitClosed();
    // The client sees the close before the server has counted it: wait for the server's side.
    await waitFor(() => gw.gateway.connections.size === 1, 'the server to release the closed connection');
    const c = await TestClient.connect(gw.url);
    b.close();
    c.close();
  } finally {
    await gw.close();
  }
});

test('origin allow-list → 403 for other origins; no Origin (not a browser) is not affected', async () => {
  const gw = await startTestGateway({ limits: { allowedOrigins: ['https://booking.example'] } });
  try {
    await assert.rejects(TestClient.connect(gw.url, { origin: 'https://evil.example' }), /HTTP 403/);
    const ok = await TestClient.connect(gw.url, { origin: 'https://booking.example' });
    ok.close();
    const noOrigin = await TestClient.connect(gw.url);
    noOrigin.close();
  } finally {
    await gw.close();
  }
});

test('a client that does not read is disconnected instead of growing server memory', async () => {
  const gw = await startTestGateway({ limits: { maxBufferedBytes: 64 * 1024, maxMessageBytes: 64 * 1024, ratePerSecond: 100000, rateBurst: 100000 } });
  try {
    const slow = await TestClient.connect(gw.url);
    const sender = await TestClient.connect(gw.url);
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const payload = 'y'.repeat(30_000);
    for (let i = 0; i < 400 && gw.gateway.connections.size > 1; i++) {
      sender.send({ type: 'notification', message: payload });
      await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => gw.gateway.connections.size === 1, 'the non-reading client to be dropped');
    sender.send({ type: 'ping', id: 'after' });
    assert.equal((await sender.ofType('pong', 5000)).reply_to, 'after');
    sender.close();
  } finally {
    await gw.close();
  }
});

test('WSS_CLIENT_BROADCAST=chat relays chat only; none relays nothing', async () => {
  const gw = await startTestGateway({ clientBroadcast: 'chat' });
  const gw2 = await startTestGateway({ clientBroadcast: 'none' });
  try {
    const a = await TestClient.connect(gw.url);
    const b = await TestClient.connect(gw.url);
    a.send({ type: 'notification', message: 'n' });
    assert.equal((await a.ofType('error')).code, 'BROADCAST_DISABLED');
    a.send({ type: 'chat', message: 'c' });
    await b.next((m) => m.type === 'chat');
    assert.ok(await b.expectNone((m) => m.type === 'notification'));
    const x = await TestClient.connect(gw2.url);
    x.send({ type: 'chat', message: 'c' });
    assert.equal((await x.ofType('error')).code, 'BROADCAST_DISABLED');
    for (const c of [a, b, x]) c.close();
  } finally {
    await gw.close();
    await gw2.close();
  }
});

test('server_ping and room_ping arrive on their intervals; live members keep entity rooms', async () => {
  const gw = await startTestGateway({ timers: { serverPingMs: 100, roomPingMs: 100, roomCleanupMs: 150, roomIdleMs: 200, protocolPingMs: 100 } });
  try {
    const c = await TestClient.connect(gw.url);
    c.send({ type: 'subscribe', entityType: 'resource', entityId: 5 });
    await c.ofType('subscription_confirmation');
    const sp = await c.ofType('server_ping');
    assert.match(sp.id, /^ping_/);
    const rp = await c.ofType('room_ping');
    assert.equal(rp.roomId, 'entity_resource_5');
    // Never answer room_ping: the connection still answers protocol pings (ws does automatically),
    // so it must keep its room well past roomIdleMs (the original dropped it). Counted in the
    // gateway's own timer ticks rather than wall time, so a stalled event loop cannot shorten it:
    // four more room_pings span three cleanups (150 ms) and more than roomIdleMs (200 ms).
    for (let i = 0; i < 4; i++) await c.ofType('room_ping');
    assert.ok(gw.gateway.rooms.roomIds('entity').includes('entity_resource_5'));
    c.close();
  } finally {
    await gw.close();
  }
});

test('a connection that stops answering protocol pings is terminated and leaves its rooms', async () => {
  const gw = await startTestGateway({ timers: { protocolPingMs: 100 } });
  try {
    const ws = new WebSocket(gw.url, { autoPong: false });
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(JSON.stringify({ type: 'subscribe', entityType: 'resource', entityId: 9 }));
    const closed = new Promise<number>((resolve) => ws.once('close', resolve));
    await withDeadline(closed, 'the dead connection to be terminated');
    await waitFor(() => gw.gateway.connections.size === 0, 'the server to drop the terminated connection');
    assert.equal(gw.gateway.rooms.roomIds('entity').length, 0);
  } finally {
    await gw.close();
  }
});

test('close() sends 1001 to every client', async () => {
  const gw = await startTestGateway();
  const a = await TestClient.connect(gw.url);
  const b = await TestClient.connect(gw.url);
  await gw.close();
  assert.equal(await a.waitClosed(), 1001);
  assert.equal(await b.waitClosed(), 1001);
});
