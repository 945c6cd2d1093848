import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freePort } from '../helpers/redis-server.js';
import { runCli, startCliGateway } from '../helpers/cli.js';
import { tempDir } from '../helpers/gateway.js';
import { waitFor } from '../helpers/wait.js';
import { TestClient } from '../helpers/ws-client.js';

test('an invalid setting stops start-up with a message naming the variable and a non-zero exit', () => {
  const result = runCli(['start'], { WSS_PORT: 'eighty', WSS_SPOOL_DIR: tempDir() });
  assert.notEqual(result.status, 0);
  assert.match(result.stderr, /WSS_PORT/);
});

test('SIGTERM closes clients with 1001 and exits 0', async () => {
  const port = await freePort();
  const { child, output } = await startCliGateway({ WSS_PORT: String(port), WSS_HOST: '127.0.0.1', WSS_SPOOL_DIR: tempDir(), WSS_SHUTDOWN_TIMEOUT_MS: '2000', WSS_DEBUG_LOG_ENABLED: 'true' });
  const client = await TestClient.connect(`ws://127.0.0.1:${port}/wss`, { cookie: 'PHPSESSID=secretSessionValue123' });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  assert.equal(await client.waitClosed(5000), 1001);
  assert.equal(await exited, 0);
  assert.ok(output().includes('secretSe...'), 'the debug log names the session masked');
  assert.ok(!output().includes('secretSessionValue123'), 'the session id never appears in full');
});

test('a second signal during a slow shutdown exits at once with 1', async () => {
  const port = await freePort();
  const { child, output } = await startCliGateway({ WSS_PORT: String(port), WSS_HOST: '127.0.0.1', WSS_SPOOL_DIR: tempDir(), WSS_SHUTDOWN_TIMEOUT_MS: '30000' });
  // A client that never answers the close handshake holds shutdown for WSS_SHUTDOWN_TIMEOUT_MS.
  const stubborn = await TestClient.connect(`ws://127.0.0.1:${port}/wss`);
  (stubborn.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  // The second signal must arrive while the first one's shutdown runs, not before it began.
  await waitFor(() => output().includes('shutting down'), 'the gateway to begin its shutdown');
  const started = Date.now();
  child.kill('SIGINT');
  assert.equal(await exited, 1);
  assert.ok(Date.now() - started < 5000, 'did not wait for the shutdown timeout');
  stubborn.ws.terminate();
});
