import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { startTestGateway, tempDir } from '../helpers/gateway.js';
import { quietWindow, waitFor } from '../helpers/wait.js';
import { TestClient } from '../helpers/ws-client.js';
import { sessionRoomId } from '../../src/server/session.js';
import { FAILED_DIR, LEGACY_PROCESSING_DIR, QUEUE_DIR } from '../../src/server/ingress/spool.js';

const stamp = () => `${Date.now()}.${Math.floor(Math.random() * 1e6)}`;
const spoolFiles = (dir: string) => fs.readdirSync(dir).filter((f) => f.startsWith('websocket_'));

const until = (check: () => boolean, ms = 15_000): Promise<void> => waitFor(check, 'the spool folder to reach the expected state', ms);

test('notification spool file: broadcast, target session, target entity; file removed', async () => {
  const gw = await startTestGateway();
  try {
    const a = await TestClient.connect(gw.url, { cookie: 'PHPSESSID=spoolSessA1' });
    const b = await TestClient.connect(gw.url);
    b.send({ type: 'subscribe', entityType: 'resource', entityId: 3 });
    await b.ofType('subscription_confirmation');

    fs.writeFileSync(path.join(gw.spoolDir, `websocket_notification_${stamp()}.json`), JSON.stringify({ type: 'notification', message: 'New booking created', data: { id: 1 } }));
    for (const c of [a, b]) {
      const m = await c.next((x) => x.message === 'New booking created');
      assert.equal(m.source, 'spool');
      assert.ok(m.received_at);
      assert.deepEqual(m.data, { id: 1 });
    }

    fs.writeFileSync(path.join(gw.spoolDir, `websocket_notification_${stamp()}.json`), JSON.stringify({ type: 'notification', target: 'session', sessionId: 'spoolSessA1', message: 'just you' }));
    const mine = await a.next((x) => x.message === 'just you');
    assert.equal(mine.roomId, sessionRoomId('spoolSessA1'));
    assert.ok(await b.expectNone((x) => x.message === 'just you'));

    fs.writeFileSync(path.join(gw.spoolDir, `websocket_notification_${stamp()}.json`), JSON.stringify({ type: 'entity_update', target: 'entity', entityType: 'resource', entityId: 3, message: 'resource changed' }));
    const ent = await b.next((x) => x.message === 'resource changed');
    assert.deepEqual([ent.entityType, ent.entityId, ent.roomId], ['resource', 3, 'entity_resource_3']);
    assert.ok(await a.expectNone((x) => x.message === 'resource changed'));

    await until(() => spoolFiles(gw.spoolDir).length === 0 && fs.readdirSync(path.join(gw.spoolDir, QUEUE_DIR)).length === 0);
    a.close();
    b.close();
  } finally {
    await gw.close();
  }
});

test('session spool file delivers the unwrapped data to the session room only', async () => {
  const gw = await startTestGateway();
  try {
    const a = await TestClient.connect(gw.url, { cookie: 'PHPSESSID=spoolSessB2' });
    const other = await TestClient.connect(gw.url, { cookie: 'PHPSESSID=someoneElse9' });
    const body = { type: 'session_targeted', sessionId: 'spoolSessB2', message: 'wrapper', data: { type: 'booking_confirmed', bookingId: 77 } };
    fs.writeFileSync(path.join(gw.spoolDir, `websocket_session_spoolSessB2_${stamp()}.json`), JSON.stringify(body));
    const got = await a.ofType('booking_confirmed');
    assert.equal(got.bookingId, 77);
    assert.equal(got.sessionId, undefined, 'the wrapper is not delivered');
    assert.ok(got.timestamp);
    assert.ok(await other.expectNone((x) => x.type === 'booking_confirmed'));
    a.close();
    other.close();
  } finally {
    await gw.close();
  }
});

test('a half-written file is waited for until it parses', async () => {
  // A long settle time: only a file that never completes would wait for it.
  const gw = await startTestGateway({ spool: { settleMs: 10_000 } });
  try {
    const c = await TestClient.connect(gw.url);
    const name = `websocket_notification_${stamp()}.json`;
    const full = JSON.stringify({ type: 'notification', message: 'slow writer' });
    const fd = fs.openSync(path.join(gw.spoolDir, name), 'w');
    fs.writeSync(fd, full.slice(0, 10));
    // Finish writing only once the gateway has claimed (and so is reading) the half-written file;
    // the descriptor follows the file into the queue.
    await until(() => fs.readdirSync(path.join(gw.spoolDir, QUEUE_DIR)).some((f) => f.startsWith(name)), 10_000);
    fs.writeSync(fd, full.slice(10));
    fs.closeSync(fd);
    await c.next((x) => x.message === 'slow writer', 10_000);
    assert.deepEqual(fs.readdirSync(path.join(gw.spoolDir, FAILED_DIR)), []);
    c.close();
  } finally {
    await gw.close();
  }
});

test('an unparseable file goes to failed/ and others still deliver', async () => {
  const gw = await startTestGateway({ spool: { settleMs: 300 } });
  try {
    const c = await TestClient.connect(gw.url);
    const bad = `websocket_notification_${stamp()}.json`;
    fs.writeFileSync(path.join(gw.spoolDir, bad), '{"type": "notification", "message": broken');
    fs.writeFileSync(path.join(gw.spoolDir, `websocket_notification_${stamp()}.json`), JSON.stringify({ type: 'notification', message: 'after the bad one' }));
    await c.next((x) => x.message === 'after the bad one', 10_000);
    await until(() => fs.existsSync(path.join(gw.spoolDir, FAILED_DIR, bad)), 10_000);
    assert.equal(fs.readFileSync(path.join(gw.spoolDir, FAILED_DIR, bad), 'utf8'), '{"type": "notification", "message": broken', 'kept intact');

    const shapeless = `websocket_session_x1_${stamp()}.json`;
    fs.writeFileSync(path.join(gw.spoolDir, shapeless), '[1,2,3]');
    await until(() => fs.existsSync(path.join(gw.spoolDir, FAILED_DIR, shapeless)), 10_000);
    c.close();
  } finally {
    await gw.close();
  }
});

test('two gateways sharing one spool folder: every file reaches the clients of both, once each', async () => {
  const dir = tempDir();
  const g1 = await startTestGateway({ spool: { dir, scanIntervalMs: 20 } });
  const g2 = await startTestGateway({ spool: { dir, scanIntervalMs: 20 } });
  try {
    const c1 = await TestClient.connect(g1.url);
    const c2 = await TestClient.connect(g2.url);
    const total = 60;
    for (let i = 0; i < total; i++) {
      fs.writeFileSync(path.join(dir, `websocket_notification_${stamp()}_${i}.json`), JSON.stringify({ type: 'notification', message: `m${i}` }));
    }
    // Single-node buses (as while Redis is down): each instance reads every file itself.
    const delivered = (c: TestClient) => c.messages.filter((m) => typeof m.message === 'string' && m.message.startsWith('m')).map((m) => m.message);
    await until(() => [c1, c2].every((c) => delivered(c).length >= total) && spoolFiles(dir).length === 0, 15_000);
    await quietWindow(300); // nothing else may arrive: a second copy of any file would show here
    for (const c of [c1, c2]) {
      const seen = delivered(c);
      assert.equal(seen.length, total, 'every file delivered to this client');
      assert.equal(new Set(seen).size, total, 'and none twice');
    }
    c1.close();
    c2.close();
  } finally {
    await g1.close();
    await g2.close();
  }
});

test('a claim left by a crashed instance of an earlier version is taken back and delivered', async () => {
  const dir = tempDir();
  fs.mkdirSync(path.join(dir, LEGACY_PROCESSING_DIR), { recursive: true });
  const orphan = path.join(dir, LEGACY_PROCESSING_DIR, `websocket_notification_${stamp()}.json@dead-instance`);
  fs.writeFileSync(orphan, JSON.stringify({ type: 'notification', message: 'orphaned' }));
  const gw = await startTestGateway({ spool: { dir, claimTimeoutMs: 1000, scanIntervalMs: 100 } });
  try {
    const c = await TestClient.connect(gw.url);
    await c.next((x) => x.message === 'orphaned', 6000);
    assert.equal(fs.existsSync(orphan), false);
    c.close();
  } finally {
    await gw.close();
  }
});

test('a file still being written at shutdown is left in the queue, not failed', async () => {
  const gw = await startTestGateway({ spool: { settleMs: 5000, scanIntervalMs: 50 } });
  const name = `websocket_notification_${stamp()}.json`;
  fs.writeFileSync(path.join(gw.spoolDir, name), '{"type":"notif');
  await until(() => fs.readdirSync(path.join(gw.spoolDir, QUEUE_DIR)).length === 1);
  await gw.close();
  assert.ok(fs.existsSync(path.join(gw.spoolDir, QUEUE_DIR, name)), 'left queued for the next start');
  assert.equal(fs.existsSync(path.join(gw.spoolDir, FAILED_DIR, name)), false);
});

test('an entry the gateway cannot read (here a folder with a spool name) goes to failed/, it does not loop', async () => {
  const gw = await startTestGateway({ spool: { claimTimeoutMs: 1000 } });
  try {
    const c = await TestClient.connect(gw.url);
    const name = `websocket_notification_${stamp()}.json`;
    fs.mkdirSync(path.join(gw.spoolDir, name));
    await until(() => fs.existsSync(path.join(gw.spoolDir, FAILED_DIR, name)));
    fs.writeFileSync(path.join(gw.spoolDir, `websocket_notification_${stamp()}.json`), JSON.stringify({ type: 'notification', message: 'still flowing' }));
    await c.next((x) => x.message === 'still flowing');
    await until(() => fs.readdirSync(path.join(gw.spoolDir, QUEUE_DIR)).length === 0);
    c.close();
  } finally {
    await gw.close();
  }
});

test('a session_targeted wrapper in a notification file (PHP RedisService fallback) goes to that session only', async () => {
  const gw = await startTestGateway();
  try {
    const mine = await TestClient.connect(gw.url, { cookie: 'PHPSESSID=wrappedSession0123456789' });
    const other = await TestClient.connect(gw.url);
    const wrapper = { type: 'session_targeted', sessionId: 'wrappedSession0123456789', message: 'm', data: { type: 'area_update', action: 'new' } };
    fs.writeFileSync(path.join(gw.spoolDir, `websocket_notification_${stamp()}.json`), JSON.stringify(wrapper));
    const got = await mine.ofType('area_update');
    assert.equal(got.sessionId, undefined, 'unwrapped');
    assert.ok(await other.expectNone((m) => JSON.stringify(m).includes('wrappedSession0123456789')), 'the session id is never broadcast');
    mine.close();
    other.close();
  } finally {
    await gw.close();
  }
});
