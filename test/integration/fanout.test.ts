/**
 * The packed broadcast path (src/server/fanout.ts): frames built once and shared, one write per
 * connection per turn, per-connection order kept between broadcasts and direct replies.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type { Duplex, Writable } from 'node:stream';
import { test } from 'node:test';
import type { WebSocket } from 'ws';
import { encodeTextFrame, MAX_HOLD_MS, Outbox, PendingChain, prepareFrame } from '../../src/server/fanout.js';
import { WebSocketConnection } from '../../src/server/ws-connection.js';
import { stamped } from '../../src/server/messages.js';
import { startTestGateway } from '../helpers/gateway.js';
import { TestClient } from '../helpers/ws-client.js';

// ws's own frame parser (exported at runtime, not in @types/ws) checks the frames independently.
const { Receiver } = createRequire(import.meta.url)('ws') as { Receiver: new (opts: { isServer: boolean }) => Writable };

function decode(frames: Buffer): string[] {
  const out: string[] = [];
  const receiver = new Receiver({ isServer: false });
  receiver.on('message', (data: Buffer) => out.push(data.toString()));
  receiver.write(frames);
  return out;
}

test('encodeTextFrame produces frames ws decodes, for every header size', () => {
  for (const size of [0, 1, 125, 126, 65_535, 65_536, 70_000]) {
    const text = 'é'.repeat(Math.floor(size / 2)) + 'x'.repeat(size % 2);
    assert.deepEqual(decode(encodeTextFrame(text)), [text], `payload of ${Buffer.byteLength(text)} bytes`);
  }
});

test('connections at the same node share the child and its packed bytes', () => {
  const root = new PendingChain(null, null);
  const a = encodeTextFrame('{"n":1}');
  const b = encodeTextFrame('{"n":2}');
  const one = root.append(a);
  assert.equal(root.append(a), one, 'second append of the same frame reuses the node');
  assert.equal(one.buffer(), a, 'a single frame is written as is, not copied');
  const two = one.append(b);
  assert.equal(one.append(b), two);
  assert.equal(two.buffer(), two.buffer(), 'packed once');
  assert.equal(two.bytes, a.length + b.length);
  assert.deepEqual(decode(two.buffer()), ['{"n":1}', '{"n":2}']);
});

test('a hold makes the flush wait for publications on their way, never longer than its bound', async () => {
  // A bound far above what two turns can take on a busy machine, so "still held" cannot expire early.
  const outbox = new Outbox(60_000);
  const flushedAt: number[] = [];
  const entry = { flushPending: () => { flushedAt.push(performance.now()); } };
  const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

  outbox.enqueue(entry);
  await nextTurn();
  assert.equal(flushedAt.length, 1, 'without a hold the flush runs in the next turn');

  let expecting = true;
  const release = outbox.addHold(() => expecting);
  outbox.enqueue(entry);
  await nextTurn();
  await nextTurn();
  assert.equal(flushedAt.length, 1, 'held while the publications are on their way');
  expecting = false;
  await nextTurn();
  await nextTurn();
  assert.equal(flushedAt.length, 2, 'flushed once they are here');

  release();
  outbox.enqueue(entry);
  await nextTurn();
  assert.equal(flushedAt.length, 3, 'a released hold has no say');

  const bounded = new Outbox(); // MAX_HOLD_MS
  bounded.addHold(() => true);
  const queuedAt = performance.now();
  bounded.enqueue(entry);
  while (flushedAt.length < 4 && performance.now() - queuedAt < 10_000) await nextTurn();
  assert.equal(flushedAt.length, 4, 'a hold that never ends delays the flush, it does not stop it');
  assert.ok(flushedAt[3]! - queuedAt >= MAX_HOLD_MS, 'it waited MAX_HOLD_MS for the publications');
});

test('a reply sent between two broadcasts arrives between them', async () => {
  const gw = await startTestGateway();
  const client = await TestClient.connect(gw.url);
  try {
    const conn = [...gw.gateway.connections][0]!;
    gw.gateway.relay.toLocalAll(stamped({ type: 'notification', message: 'first' }));
    conn.send({ type: 'connection_success', message: 'reply', roomId: null, timestamp: new Date().toISOString() });
    gw.gateway.relay.toLocalAll(stamped({ type: 'notification', message: 'second' }));
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) seen.push((await client.next((m) => m.message === 'first' || m.message === 'reply' || m.message === 'second')).message);
    assert.deepEqual(seen, ['first', 'reply', 'second']);
  } finally {
    client.close();
    await gw.close();
  }
});

test('broadcasts in one turn reach every client in order, and a close after them still delivers them first', async () => {
  const gw = await startTestGateway();
  const clients = await Promise.all([1, 2, 3].map(() => TestClient.connect(gw.url)));
  try {
    for (let i = 0; i < 50; i++) gw.gateway.relay.toLocalAll(stamped({ type: 'notification', seq: i }));
    for (const c of clients) {
      for (let i = 0; i < 50; i++) assert.equal((await c.next((m) => m.type === 'notification')).seq, i);
    }
    const conn = [...gw.gateway.connections][0]!;
    gw.gateway.relay.toLocalAll(stamped({ type: 'notification', seq: 'last' }));
    conn.close(1000, 'bye');
    const closedOne = await Promise.race(clients.map((c) => c.waitClosed(5000).then(() => c)));
    assert.equal((await closedOne.next((m) => m.type === 'notification')).seq, 'last', 'pending broadcast written before the close frame');
  } finally {
    for (const c of clients) c.close();
    await gw.close();
  }
});

test('while writes are held (the greeting) replies and broadcasts queue, then leave in one write on release', () => {
  const outbox = new Outbox();
  const writes: Buffer[] = [];
  const socket = { writableLength: 0, writable: true, write: (b: Buffer) => { writes.push(b); return true; } } as unknown as Duplex;
  const ws = { readyState: 1, bufferedAmount: 0 } as unknown as WebSocket;
  const opts = { maxBufferedBytes: 1 << 20, rate: { perSecond: 1, burst: 1, closeAfter: 1 }, onOverflow: () => assert.fail('no overflow') };
  const conn = new WebSocketConnection(ws, '127.0.0.1', opts, socket, outbox);

  conn.sendFrame('{"n":0}');
  assert.equal(writes.length, 1, 'a reply with nothing pending is written at once');
  conn.holdWrites();
  conn.sendFrame('{"n":1}');
  conn.sendPrepared(prepareFrame('{"n":2}'));
  conn.sendFrame('{"n":3}');
  outbox.flush();
  assert.equal(writes.length, 1, 'nothing written while held, not even by the flush');
  assert.equal(conn.bufferedBytes > 0, true, 'held frames count against the buffer bound');
  conn.releaseWrites();
  assert.equal(writes.length, 2, 'everything held in one write, at once on release');
  outbox.flush();
  assert.equal(writes.length, 2, 'nothing left for the flush');
  assert.deepEqual(decode(writes[1]!), ['{"n":1}', '{"n":2}', '{"n":3}']);
});
