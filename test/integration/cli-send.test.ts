import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runCli, spawnCli } from '../helpers/cli.js';
import { startTestGateway, tempDir } from '../helpers/gateway.js';
import { freePort, startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { TestClient } from '../helpers/ws-client.js';

// One daemon, started by the CLI with a private Redis and a private spool folder.
let redis: RedisServer;
let env: Record<string, string>;
let port: number;
let spoolDir: string;
let daemonPid: number | null = null;
let client: TestClient;

before(async () => {
  redis = await startRedisServer();
  const dir = tempDir('portico-ws-send-');
  port = await freePort();
  spoolDir = path.join(dir, 'spool');
  fs.mkdirSync(spoolDir);
  env = {
    WSS_PORT: String(port), WSS_HOST: '127.0.0.1', WSS_PID_FILE: path.join(dir, 'gw.pid'), WSS_LOG_FILE: path.join(dir, 'gw.log'),
    WSS_SPOOL_DIR: spoolDir, WSS_SPOOL_SCAN_MS: '200', WSS_SHUTDOWN_TIMEOUT_MS: '500', WSS_PUBLISH_TOKEN: '', WSS_PUBLISH_URL: '',
    REDIS_URL: redis.url, REDIS_HOST: '', REDIS_RETRY_MAX_MS: '300', DATABASE_URL: '', DB_HOST: '', DB_NAME: '', WSS_PORTICO_CONFIG: '',
    WSS_PUBLISH_TIMEOUT_MS: '1000', NO_COLOR: '1',
  };
  const r = runCli(['start', '--daemon'], env, 60_000);
  assert.equal(r.status, 0, r.stderr);
  daemonPid = Number(fs.readFileSync(env.WSS_PID_FILE!, 'utf8'));
  client = await TestClient.connect(`ws://127.0.0.1:${port}/wss`);
});

after(async () => {
  client?.close();
  const r = runCli(['stop'], env, 60_000);
  if (r.status !== 0 && daemonPid) try { process.kill(daemonPid, 'SIGKILL'); } catch { /* gone */ }
  await redis.stop();
});

const send = (args: string[], extra: Record<string, string> = {}) => runCli(['send', ...args], { ...env, ...extra }, 60_000);

function sendAsync(args: string[], extra: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawnCli(['send', ...args], { ...env, ...extra });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => { stdout += d; });
  child.stderr!.on('data', (d) => { stderr += d; });
  return new Promise((resolve) => child.once('close', (status) => resolve({ status, stdout, stderr })));
}

test('invalid data_json: message and exit 1, nothing published', async () => {
  for (const bad of ['{not json', '[1,2]', '"text"']) {
    const r = send(['Hello', 'notification', bad]);
    assert.equal(r.status, 1, bad);
    assert.match(r.stderr, /Invalid JSON data/);
  }
  assert.equal(send([]).status, 1, 'a message is required');
  assert.deepEqual(fs.readdirSync(spoolDir).filter((n) => n.startsWith('websocket_')), []);
  assert.ok(await client.expectNone((m) => m.message === 'Hello'));
});

test('with Redis up: published on the notifications channel and delivered by the gateway', async () => {
  const r = send(['Booking created', 'booking_notice', '{"id": 42}']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /sent via redis to 1 subscriber\(s\)/);
  const msg = await client.next((m) => m.message === 'Booking created', 10_000);
  assert.equal(msg.type, 'booking_notice');
  assert.deepEqual(msg.data, { id: 42 });
  assert.equal(msg.source, 'redis');
});

test('with Redis down: written to the spool folder, and the gateway still delivers it', async () => {
  await redis.stop();
  try {
    const r = send(['While Redis is down']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /redis failed/);
    const file = /written to spool file (\S+)/.exec(r.stdout)?.[1];
    assert.ok(file && path.dirname(file) === spoolDir, r.stdout);
    const msg = await client.next((m) => m.message === 'While Redis is down', 15_000);
    assert.equal(msg.type, 'notification');
    assert.equal(msg.source, 'spool');
    assert.ok(!fs.existsSync(file), 'the gateway removed the delivered file');
  } finally {
    await redis.restart();
  }
});

test('Redis up but no gateway subscribed: exit 0 with a warning that nobody received it', async () => {
  const lonely = await startRedisServer();
  try {
    const r = send(['Nobody listens'], { REDIS_URL: lonely.url });
    assert.equal(r.status, 0);
    assert.match(r.stdout, /to 0 subscriber/);
    assert.match(r.stderr, /nobody received it/);
  } finally {
    await lonely.stop();
  }
});

test('with WSS_PUBLISH_TOKEN and no Redis: sent through this host\'s publish endpoint', async () => {
  const gw = await startTestGateway({ publish: { token: 'cli-send-token' } });
  try {
    const watcher = await TestClient.connect(gw.url);
    // Asynchronously: the gateway runs in this process and must answer while the CLI waits.
    const r = await sendAsync(['Over HTTP'], { REDIS_URL: '', WSS_PORT: String(gw.port), WSS_PUBLISH_TOKEN: 'cli-send-token', WSS_SPOOL_DIR: tempDir() });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /sent via the HTTP publish endpoint/, r.stderr);
    const msg = await watcher.next((m) => m.message === 'Over HTTP', 10_000);
    assert.equal(msg.source, 'http');
    watcher.close();
  } finally {
    await gw.close();
  }
});
