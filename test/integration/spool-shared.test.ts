/**
 * Several gateways sharing one spool folder: every file reaches the clients of every live
 * instance exactly once per client, whether Redis is up, down, or back; a crashed instance does
 * not keep files in the queue for ever.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { startCliGateway } from '../helpers/cli.js';
import { startTestGateway, tempDir, type TestGateway } from '../helpers/gateway.js';
import { health, startRedisGateway, teardown, waitFor } from '../helpers/redis-gateway.js';
import { startRedisServer } from '../helpers/redis-server.js';
import { TestClient } from '../helpers/ws-client.js';
import { INSTANCES_DIR, QUEUE_DIR, WORK_DIR } from '../../src/server/ingress/spool.js';

let seq = 0;
const stamp = () => `${Date.now()}.${String(++seq).padStart(6, '0')}`;
const writeNote = (dir: string, message: string) =>
  fs.writeFileSync(path.join(dir, `websocket_notification_${stamp()}.json`), JSON.stringify({ type: 'notification', message }));
const writeSession = (dir: string, sessionId: string, type: string) =>
  fs.writeFileSync(path.join(dir, `websocket_session_${sessionId}_${stamp()}.json`), JSON.stringify({ type: 'session_targeted', sessionId, data: { type, n: 1 } }));
const queued = (dir: string) => fs.readdirSync(path.join(dir, QUEUE_DIR));
const markers = (dir: string) => fs.readdirSync(path.join(dir, WORK_DIR, 'delivered')).flatMap((i) => fs.readdirSync(path.join(dir, WORK_DIR, 'delivered', i)));

/**
 * Write a fence file and wait until every client has it. Files are delivered in the order of the
 * stamps in their names and the fence's is the latest, so once a client has it, everything
 * written before has been delivered to it (or never will be).
 */
async function fence(dir: string, clients: TestClient[], label: string): Promise<void> {
  writeNote(dir, `fence ${label}`);
  for (const c of clients) await c.next((m) => m.message === `fence ${label}`, 10_000);
}

function countOf(c: TestClient, prefix: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of c.messages) if (typeof m.message === 'string' && m.message.startsWith(prefix)) counts.set(m.message, (counts.get(m.message) ?? 0) + 1);
  return counts;
}

function assertEachOnce(clients: TestClient[], prefix: string, total: number): void {
  clients.forEach((c, i) => {
    const counts = countOf(c, prefix);
    assert.equal(counts.size, total, `client ${i} got ${counts.size} of ${total} distinct "${prefix}" messages`);
    const twice = [...counts].filter(([, n]) => n !== 1);
    assert.deepEqual(twice, [], `client ${i}: each exactly once`);
  });
}

test('three gateways without Redis: every file reaches every client once; session files only their session', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  const gateways: TestGateway[] = [];
  const clients: TestClient[] = [];
  try {
    for (let i = 0; i < 3; i++) gateways.push(await startTestGateway({ spool: { dir, scanIntervalMs: 50 } }));
    for (const gw of gateways) clients.push(await TestClient.connect(gw.url), await TestClient.connect(gw.url));
    const mine = await TestClient.connect(gateways[1]!.url, { cookie: 'PHPSESSID=sharedSpoolSession1' });
    clients.push(mine);
    const total = 30;
    for (let i = 0; i < total; i++) {
      writeNote(dir, `shared ${i}`);
      if (i % 10 === 0) writeSession(dir, 'sharedSpoolSession1', 'just_mine');
    }
    await fence(dir, clients, 'a');
    assertEachOnce(clients, 'shared ', total);
    assert.equal(mine.count((m) => m.type === 'just_mine'), 3);
    assert.equal(clients.filter((c) => c !== mine).reduce((n, c) => n + c.count((m) => m.type === 'just_mine'), 0), 0);
    await waitFor(() => queued(dir).length === 0 && markers(dir).length === 0, 'queue and markers empty', 10_000);
    assert.equal(fs.readdirSync(path.join(dir, INSTANCES_DIR)).length, 3, 'one heartbeat per instance');
    await fence(dir, clients, 'b');
    assertEachOnce(clients, 'shared ', total);
  } finally {
    for (const c of clients) c.close();
    for (const gw of gateways) await gw.close();
  }
  assert.deepEqual(fs.readdirSync(path.join(dir, INSTANCES_DIR)), [], 'instances that stop cleanly leave');
});

test('three gateways on Redis: spool files reach every client once with Redis up, killed, and back', { timeout: 90_000 }, async () => {
  const server = await startRedisServer();
  const dir = tempDir();
  const gateways: TestGateway[] = [];
  const clients: TestClient[] = [];
  try {
    for (let i = 0; i < 3; i++) gateways.push(await startRedisGateway(server, { spool: { dir, scanIntervalMs: 50 } }));
    for (const gw of gateways) await waitFor(async () => (await health(gw)).redis === 'connected', 'redis connected');
    for (const gw of gateways) clients.push(await TestClient.connect(gw.url), await TestClient.connect(gw.url));

    for (let i = 0; i < 10; i++) writeNote(dir, `up ${i}`);
    await fence(dir, clients, 'up');
    assertEachOnce(clients, 'up ', 10);

    await server.stop(); // SIGKILL by pid
    for (const gw of gateways) await waitFor(async () => (await health(gw)).redis !== 'connected', 'redis seen down');
    for (let i = 0; i < 10; i++) writeNote(dir, `down ${i}`);
    await fence(dir, clients, 'down');
    assertEachOnce(clients, 'down ', 10);

    await server.restart();
    for (const gw of gateways) await waitFor(async () => (await health(gw)).redis === 'connected', 'redis back');
    for (let i = 0; i < 10; i++) writeNote(dir, `back ${i}`);
    await fence(dir, clients, 'back');
    await waitFor(() => queued(dir).length === 0, 'queue empty', 10_000);
    await fence(dir, clients, 'last');
    for (const prefix of ['up ', 'down ', 'back ']) assertEachOnce(clients, prefix, 10);
  } finally {
    await teardown(server, gateways, clients);
  }
});

test('a crashed instance does not keep files queued: they go once its heartbeat is stale', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  const timeout = 1500;
  const crashed = await startCliGateway({
    WSS_PORT: '0', WSS_HOST: '127.0.0.1', WSS_SPOOL_DIR: dir, WSS_SPOOL_SCAN_MS: '50', WSS_SPOOL_CLAIM_TIMEOUT_MS: String(timeout), WSS_SPOOL_SETTLE_MS: '300',
    WSS_INSTANCE_ID: 'doomed', REDIS_URL: '', REDIS_HOST: '', DATABASE_URL: '', DB_HOST: '', DB_NAME: '', WSS_PORTICO_CONFIG: '',
  }, 30_000);
  const gw = await startTestGateway({ spool: { dir, scanIntervalMs: 50, claimTimeoutMs: timeout } });
  try {
    await waitFor(() => fs.readdirSync(path.join(dir, INSTANCES_DIR)).includes('doomed'), 'the other instance announced');
    process.kill(crashed.child.pid!, 'SIGKILL');
    await new Promise((r) => crashed.child.once('exit', r));
    const c = await TestClient.connect(gw.url);
    writeNote(dir, 'after the crash');
    await c.next((m) => m.message === 'after the crash', 5000);
    await waitFor(() => queued(dir).length === 0, 'the file released without the crashed instance', 10 * timeout);
    assert.deepEqual(fs.readdirSync(path.join(dir, INSTANCES_DIR)).filter((n) => n === 'doomed'), [], 'its heartbeat removed');
    assert.ok(!fs.existsSync(path.join(dir, WORK_DIR, 'delivered', 'doomed')), 'and its markers');
    assert.equal(c.count((m) => m.message === 'after the crash'), 0, 'delivered once (the one taken above)');
    c.close();
  } finally {
    if (crashed.child.exitCode === null && crashed.child.signalCode === null) crashed.child.kill('SIGKILL');
    await gw.close();
  }
});
