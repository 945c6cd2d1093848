/** Bad or hostile peers get a clear refusal and cost the gateway nothing; everyone else keeps being served. */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { startTestGateway } from '../helpers/gateway.js';
import { TestClient } from '../helpers/ws-client.js';

const UPGRADE = (path: string) =>
  `GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;

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
    await new Promise((r) => setTimeout(r, 300));
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
