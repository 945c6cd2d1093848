/**
 * The spool folder is /tmp by default, where anyone on the host can create entries. None of them
 * may block ingress or shutdown, be followed out of the folder, or be read without bound; and the
 * gateway keeps its own folders under one dot-folder it owns.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { startTestGateway, tempDir, type TestGateway } from '../helpers/gateway.js';
import { startCliGateway } from '../helpers/cli.js';
import { captureLogger, health, waitFor } from '../helpers/redis-gateway.js';
import { TestClient } from '../helpers/ws-client.js';
import { FAILED_DIR } from '../../src/server/ingress/spool.js';
import { defaultConfig } from '../../src/server/config/index.js';

const stamp = () => `${Date.now()}.${Math.floor(Math.random() * 1e6)}`;
const note = (dir: string, message: string) =>
  fs.writeFileSync(path.join(dir, `websocket_notification_${stamp()}.json`), JSON.stringify({ type: 'notification', message }));
const failed = (gw: TestGateway, name: string) => path.join(gw.spoolDir, FAILED_DIR, name);
const lstatOrNull = (file: string) => fs.lstatSync(file, { throwIfNoEntry: false }) ?? null;

/** Wait until `name` (checked with `isRefused`) is in failed/, then show the next file still flows to `c`. */
async function refusedThenFlowing(gw: TestGateway, c: TestClient, name: string, isRefused: (stat: fs.Stats | null) => boolean): Promise<void> {
  await waitFor(() => isRefused(lstatOrNull(failed(gw, name))), `${name} in failed/`, 5000);
  note(gw.spoolDir, `after ${name}`);
  await c.next((m) => m.message === `after ${name}`, 5000);
}
const isLink = (stat: fs.Stats | null) => stat?.isSymbolicLink() === true;

/** Open a FIFO's write end (when a reader waits) and close it, so a blocked reader is let go. */
function releaseFifo(file: string): void {
  try {
    fs.closeSync(fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
  } catch { /* no reader waiting, or gone */ }
}

test('a FIFO with a spool name goes to failed/ without blocking later files or shutdown', { timeout: 30_000 }, async () => {
  const gw = await startTestGateway({ spool: { scanIntervalMs: 50 } });
  const fifo = path.join(gw.spoolDir, 'websocket_notification_1.json');
  execFileSync('mkfifo', [fifo]);
  try {
    const c = await TestClient.connect(gw.url);
    await waitFor(() => lstatOrNull(failed(gw, 'websocket_notification_1.json'))?.isFIFO() === true, 'the FIFO in failed/', 5000);
    note(gw.spoolDir, 'after the fifo');
    await c.next((m) => m.message === 'after the fifo', 5000);
    c.close();
    const closed = gw.close().then(() => 'closed');
    const outcome = await Promise.race([closed, new Promise((r) => setTimeout(() => r('hung'), 5000))]);
    assert.equal(outcome, 'closed', 'shutdown is not held by the FIFO');
  } finally {
    releaseFifo(fifo);
    releaseFifo(failed(gw, 'websocket_notification_1.json'));
    await gw.close();
  }
});

test('SIGTERM with a FIFO in the spool folder: the gateway process exits cleanly', { timeout: 30_000 }, async () => {
  const dir = tempDir('portico-ws-fifo-');
  const fifo = path.join(dir, 'websocket_notification_1.json');
  execFileSync('mkfifo', [fifo]);
  const { child } = await startCliGateway({
    WSS_PORT: '0', WSS_HOST: '127.0.0.1', WSS_SPOOL_DIR: dir, WSS_SPOOL_SCAN_MS: '50', WSS_SHUTDOWN_TIMEOUT_MS: '500',
    REDIS_URL: '', REDIS_HOST: '', DATABASE_URL: '', DB_HOST: '', DB_NAME: '', WSS_PORTICO_CONFIG: '',
  }, 30_000);
  try {
    await waitFor(() => lstatOrNull(path.join(dir, FAILED_DIR, 'websocket_notification_1.json'))?.isFIFO() === true, 'the FIFO in failed/', 5000);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    process.kill(child.pid!, 'SIGTERM');
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('hung'), 8000))]);
    assert.equal(code, 0);
  } finally {
    releaseFifo(fifo);
    releaseFifo(path.join(dir, FAILED_DIR, 'websocket_notification_1.json'));
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});

test('a symbolic link is never followed: its target is not broadcast, the link goes to failed/', { timeout: 30_000 }, async () => {
  const gw = await startTestGateway();
  const outside = path.join(tempDir('portico-ws-secret-'), 'secret.json');
  fs.writeFileSync(outside, JSON.stringify({ type: 'notification', message: 'host secret' }));
  try {
    const c = await TestClient.connect(gw.url);
    const name = `websocket_notification_${stamp()}.json`;
    fs.symlinkSync(outside, path.join(gw.spoolDir, name));
    await refusedThenFlowing(gw, c, name, isLink);
    assert.equal(c.count((m) => m.message === 'host secret'), 0, 'the target was not read');
    assert.equal(fs.readFileSync(outside, 'utf8').includes('host secret'), true, 'and is untouched');
    c.close();
  } finally {
    await gw.close();
  }
});

test('a link to /dev/zero is refused at once, memory stays flat', { timeout: 30_000 }, async () => {
  const gw = await startTestGateway();
  try {
    const c = await TestClient.connect(gw.url);
    const before = process.memoryUsage().rss;
    const name = `websocket_notification_${stamp()}.json`;
    fs.symlinkSync('/dev/zero', path.join(gw.spoolDir, name));
    await refusedThenFlowing(gw, c, name, isLink);
    const grownMb = (process.memoryUsage().rss - before) / 1e6;
    assert.ok(grownMb < 50, `RSS grew ${grownMb.toFixed(1)} MB`);
    c.close();
  } finally {
    await gw.close();
  }
});

test('a file larger than WSS_SPOOL_MAX_BYTES goes to failed/ unread; one within it is delivered', { timeout: 30_000 }, async () => {
  assert.equal(defaultConfig().spool.maxBytes, 1_048_576, 'default 1 MiB');
  const gw = await startTestGateway({ spool: { maxBytes: 1024 } });
  try {
    const c = await TestClient.connect(gw.url);
    const big = `websocket_notification_${stamp()}.json`;
    const bigBody = JSON.stringify({ type: 'notification', message: 'too big', pad: 'x'.repeat(2000) });
    fs.writeFileSync(path.join(gw.spoolDir, big), bigBody);
    await waitFor(() => fs.existsSync(failed(gw, big)), 'the large file in failed/', 5000);
    assert.equal(fs.readFileSync(failed(gw, big), 'utf8'), bigBody, 'kept intact for inspection');
    const fits = JSON.stringify({ type: 'notification', message: 'fits', pad: 'y'.repeat(900) });
    assert.ok(Buffer.byteLength(fits) <= 1024);
    fs.writeFileSync(path.join(gw.spoolDir, `websocket_notification_${stamp()}.json`), fits);
    await c.next((m) => m.message === 'fits', 5000);
    assert.equal(c.count((m) => m.message === 'too big'), 0);
    c.close();
  } finally {
    await gw.close();
  }
});

test('a hard link to another file is not read', { timeout: 30_000 }, async () => {
  const gw = await startTestGateway();
  const other = path.join(gw.spoolDir, 'not-a-spool-file.json');
  fs.writeFileSync(other, JSON.stringify({ type: 'notification', message: 'linked content' }));
  try {
    const c = await TestClient.connect(gw.url);
    const name = `websocket_notification_${stamp()}.json`;
    fs.linkSync(other, path.join(gw.spoolDir, name));
    await refusedThenFlowing(gw, c, name, (stat) => stat?.isFile() === true);
    assert.equal(c.count((m) => m.message === 'linked content'), 0);
    c.close();
  } finally {
    await gw.close();
  }
});

test('the gateway creates nothing in the spool folder but its one dot-folder', { timeout: 30_000 }, async () => {
  const gw = await startTestGateway();
  try {
    const c = await TestClient.connect(gw.url);
    note(gw.spoolDir, 'ordinary');
    await c.next((m) => m.message === 'ordinary', 5000);
    fs.writeFileSync(path.join(gw.spoolDir, `websocket_notification_${stamp()}.json`), 'not json');
    await waitFor(() => fs.readdirSync(path.join(gw.spoolDir, FAILED_DIR)).length === 1, 'the bad file in failed/', 5000);
    assert.deepEqual(fs.readdirSync(gw.spoolDir), ['.portico-ws']);
    assert.equal(fs.statSync(path.join(gw.spoolDir, '.portico-ws')).mode & 0o777, 0o700);
    c.close();
  } finally {
    await gw.close();
  }
});

test('a dot-folder someone else prepared (here a symbolic link) is refused, reported, and nothing is moved into it', { timeout: 30_000 }, async () => {
  const spoolDir = tempDir();
  const elsewhere = tempDir('portico-ws-attacker-');
  fs.symlinkSync(elsewhere, path.join(spoolDir, '.portico-ws'));
  const gw = await startTestGateway({ spool: { dir: spoolDir, scanIntervalMs: 50 } });
  try {
    const c = await TestClient.connect(gw.url);
    note(spoolDir, 'waits for a safe folder');
    const report = await health(gw);
    assert.equal(report.spool, 'unavailable');
    assert.equal(report.status, 'degraded');
    assert.ok(await c.expectNone((m) => m.message === 'waits for a safe folder', 500));
    assert.deepEqual(fs.readdirSync(elsewhere), [], 'nothing was created or moved through the link');

    fs.unlinkSync(path.join(spoolDir, '.portico-ws'));
    await c.next((m) => m.message === 'waits for a safe folder', 5000);
    assert.equal((await health(gw)).spool, 'enabled');
    c.close();
  } finally {
    await gw.close();
  }
});

test('a folder full of bad entries is logged a few lines a minute, not a line each', { timeout: 30_000 }, async () => {
  const { log, lines } = captureLogger();
  const gw = await startTestGateway({ spool: { settleMs: 0 } }, { log });
  try {
    const bad = 40;
    for (let i = 0; i < bad; i++) fs.writeFileSync(path.join(gw.spoolDir, `websocket_notification_${stamp()}_${i}.json`), 'not json');
    await waitFor(() => fs.readdirSync(path.join(gw.spoolDir, FAILED_DIR)).length === bad, 'every bad file in failed/', 10_000);
    const warnings = lines.filter((l) => l.level >= 40);
    assert.ok(warnings.length <= 6, `${warnings.length} warning lines for ${bad} bad files`);
  } finally {
    await gw.close();
  }
});
