import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { entityRoomId, maskSessionId, roomKind } from '../../src/protocol/room-ids.js';
import { backoffDelay } from '../../src/protocol/backoff.js';
import { sessionFromCookies, sessionRoomId } from '../../src/server/session.js';
import { RoomRegistry } from '../../src/server/rooms.js';
import { TokenBucket } from '../../src/server/rate-limit.js';
import { classifySpoolFile } from '../../src/server/ingress/spool.js';
import { Connection } from '../../src/server/connection.js';

test('session room id is session_ + first 10 hex of md5', () => {
  const expected = 'session_' + createHash('md5').update('abc123').digest('hex').slice(0, 10);
  assert.equal(sessionRoomId('abc123'), expected);
});

test('bookingfrontendsession wins over PHPSESSID', () => {
  assert.deepEqual(sessionFromCookies('PHPSESSID=aaa111; bookingfrontendsession=bbb222'), { sessionId: 'bbb222', type: 'booking' });
  assert.deepEqual(sessionFromCookies('other=1; PHPSESSID=aaa111'), { sessionId: 'aaa111', type: 'standard' });
  assert.equal(sessionFromCookies('other=1'), null);
  assert.equal(sessionFromCookies(undefined), null);
  assert.equal(sessionFromCookies('PHPSESSID=<script>'), null);
});

test('entity room ids and masking', () => {
  assert.equal(entityRoomId('resource', 42), 'entity_resource_42');
  assert.equal(roomKind('entity_resource_42'), 'entity');
  assert.equal(roomKind(sessionRoomId('x')), 'session');
  assert.equal(maskSessionId('abcdefghijklmnop'), 'abcdefgh...');
  assert.equal(maskSessionId('abcdef'), 'abc...', 'a short id is never shown whole');
  assert.equal(maskSessionId(null), null);
});

/** A connection with no transport: only what the room registry keeps on it. */
class RoomOnlyConnection extends Connection {
  readonly dialect = 'legacy' as const;
  constructor() {
    super('127.0.0.1', { maxBufferedBytes: 0, rate: { perSecond: 1, burst: 1, closeAfter: 1 }, onOverflow: () => {} });
  }
  get isOpen(): boolean { return true; }
  get bufferedBytes(): number { return 0; }
  sendPrepared(): boolean { return true; }
  sendFrame(): boolean { return true; }
  protocolPing(): void {}
  close(): void {}
  terminate(): void {}
  flushPending(): void {}
}

function fakeConn(lastSeen: number): Connection {
  const conn = new RoomOnlyConnection();
  conn.lastSeen = lastSeen;
  return conn;
}

test('a connection keeps its rooms in a list, then a Set past 32, and lets both go when it leaves the last', () => {
  const rooms = new RoomRegistry();
  const conn = fakeConn(0);
  assert.deepEqual(conn.roomIds(), []);
  const ids = Array.from({ length: 40 }, (_, i) => `entity_resource_${i}`);
  for (const id of ids) rooms.join(conn, id);
  rooms.join(conn, ids[3]!); // joining again changes nothing
  assert.equal(conn.roomCount, 40);
  assert.deepEqual(conn.roomIds(), ids, 'in joining order');
  assert.equal(conn.inRoom('entity_resource_39'), true);
  assert.equal(conn.inRoom('entity_resource_40'), false);
  rooms.leave(conn, 'entity_resource_0');
  assert.equal(conn.inRoom('entity_resource_0'), false);
  assert.equal(conn.roomCount, 39);
  rooms.leaveAll(conn);
  assert.equal(conn.roomCount, 0);
  assert.deepEqual(conn.roomIds(), []);
  rooms.join(conn, 'session_0123456789');
  rooms.join(conn, 'entity_resource_1');
  rooms.leave(conn, 'session_0123456789');
  assert.deepEqual(conn.roomIds(), ['entity_resource_1'], 'a short list keeps the others');
  assert.equal(rooms.isMember(conn, 'entity_resource_1'), true);
});

test('room cleanup removes only idle members of entity rooms', () => {
  const rooms = new RoomRegistry();
  const now = 1_000_000;
  const live = fakeConn(now - 1000);
  const dead = fakeConn(now - 600_000);
  rooms.join(live, 'entity_resource_1', now - 600_000);
  rooms.join(dead, 'entity_resource_1', now - 600_000);
  rooms.join(dead, 'session_0123456789', now - 600_000);
  const removed = rooms.removeIdleEntityMembers(480_000, now);
  assert.deepEqual(removed.map((r) => r.roomId), ['entity_resource_1']);
  assert.equal(rooms.isMember(live, 'entity_resource_1'), true, 'a live connection keeps its rooms');
  assert.equal(rooms.isMember(dead, 'entity_resource_1'), false);
  assert.equal(rooms.isMember(dead, 'session_0123456789'), true, 'session rooms are never cleaned');
  rooms.leaveAll(live);
  rooms.leaveAll(dead);
  assert.equal(rooms.roomIds().length, 0, 'empty rooms disappear');
});

test('token bucket limits, then flags sustained abuse', () => {
  const bucket = new TokenBucket({ perSecond: 10, burst: 5, closeAfter: 3 }, 0);
  const decisions = Array.from({ length: 8 }, () => bucket.take(0));
  assert.deepEqual(decisions, ['ok', 'ok', 'ok', 'ok', 'ok', 'limited', 'limited', 'abusive']);
  assert.equal(bucket.take(1000), 'ok', 'refills over time');
});

test('backoff grows exponentially, is capped and jittered', () => {
  const max = (n: number) => backoffDelay(n, { baseMs: 100, maxMs: 1000, jitter: 0.5 }, () => 1);
  const min = (n: number) => backoffDelay(n, { baseMs: 100, maxMs: 1000, jitter: 0.5 }, () => 0);
  assert.deepEqual([1, 2, 3, 4, 5, 10].map(max), [100, 200, 400, 800, 1000, 1000]);
  assert.deepEqual([1, 2, 3].map(min), [50, 100, 200]);
});

test('spool file names', () => {
  assert.deepEqual(classifySpoolFile('websocket_notification_1700000000.1234.json'), { channel: 'notifications' });
  assert.deepEqual(classifySpoolFile('websocket_session_abc_def_1700000000.5.json'), { channel: 'session_messages', sessionId: 'abc_def' });
  assert.equal(classifySpoolFile('websocket_notification_1.json.tmp'), null);
  assert.equal(classifySpoolFile('other.json'), null);
  assert.deepEqual(classifySpoolFile('websocket_room_1700000000.5.json'), { channel: 'room_messages' });
});
