/** The admin view's small parts: masking, room look-up, the cluster chart's sums, the warnings sink. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { maskRoomId } from '../../src/protocol/room-ids.js';
import { AdminCounters, SampleRing, type Sample } from '../../src/server/admin/counters.js';
import { matchRooms } from '../../src/server/admin/instance.js';
import { RecentLog } from '../../src/server/admin/recent-log.js';
import { aggregateSamples } from '../../src/server/admin/routes.js';
import { createLogger } from '../../src/server/log.js';
import { noopObserver } from '../../src/server/observer.js';
import { sessionRoomId } from '../../src/server/session.js';

test('room ids are masked like the logs mask session ids; entity rooms are public and stay whole', () => {
  assert.equal(maskRoomId('session_0123456789'), 'session_012345…');
  assert.equal(maskRoomId('user_abcdef0123456789abcdef'), 'user_abcdef…');
  assert.equal(maskRoomId('entity_resource_42'), 'entity_resource_42');
});

test('a look-up names rooms by full id, by the masked id shown (at least 4 hash characters), or by session id', () => {
  const session = sessionRoomId('the-session-id-000001');
  const known = [session, 'entity_resource_1', 'entity_resource_10'];
  assert.deepEqual(matchRooms('entity_resource_1', known), ['entity_resource_1']);
  assert.deepEqual(matchRooms(maskRoomId(session), known), [session]);
  assert.deepEqual(matchRooms(`${session.slice(0, 'session_'.length + 4)}...`, known), [session]);
  assert.deepEqual(matchRooms('session_01…', known), [], 'too short a prefix matches nothing');
  assert.deepEqual(matchRooms('the-session-id-000001', known), [session]);
  assert.deepEqual(matchRooms('another-session', known), []);
  assert.deepEqual(matchRooms('', known), []);
});

test('the cluster chart sums instances per 5-second bucket, carrying an instance\'s previous sample into a bucket it has not sampled yet', () => {
  const s = (t: number, connections: number): Sample => ({ t, connections, messagesIn: 1, messagesOut: 2, deliveries: 3, drops: { rate_limit: 0, slow_consumer: 0, oversize: 1, forbidden_type: 0, undeliverable: 0 }, recovery: { recovered: 1, failed: 0 } });
  const a = [s(10_100, 1), s(15_100, 2), s(20_100, 3)];
  const b = [s(13_900, 10), s(18_900, 20)]; // B samples at another phase and has not sampled at 20 000+ yet
  const total = aggregateSamples([a, b]);
  assert.deepEqual(total.map((x) => [x.t, x.connections]), [[10_000, 11], [15_000, 22], [20_000, 23]]);
  assert.equal(total[1]!.drops.oversize, 2);
  assert.equal(total[1]!.recovery.recovered, 2);
});

test('samples are rates per second since the previous one; the ring keeps the last N', () => {
  const counters = new AdminCounters(noopObserver);
  const ring = new SampleRing(2);
  ring.take(0, counters.totals, 0);
  for (let i = 0; i < 10; i++) counters.messageIn('chat', 10);
  counters.errorSent('RATE_LIMITED');
  counters.connectionClosed(1009);
  counters.delivered({ origin: 'x', target: { kind: 'room', roomId: 'entity_a_1' }, frame: '{}' }, 4);
  counters.recovered(true, 3);
  counters.recovered(false, 0);
  const sample = ring.take(3, counters.totals, 5000);
  assert.deepEqual([sample.messagesIn, sample.deliveries, sample.messagesOut, sample.drops.rate_limit, sample.drops.oversize], [2, 0.8, 0.8, 0.2, 0.2]);
  assert.deepEqual(sample.recovery, { recovered: 0.2, failed: 0.2 });
  ring.take(3, counters.totals, 10_000);
  assert.deepEqual(ring.list().map((x) => x.t), [5000, 10_000]);
  assert.equal(counters.roomMessagesPerMinute('entity_a_1'), 1);
});

test('the warnings sink keeps warn and above, masked by the logger, at most its capacity', async () => {
  const recent = new RecentLog(3);
  const sink = { write() {} };
  const log = createLogger({ enabled: true, debug: false, toDocker: false }, { stdout: sink as never, recent });
  log.info('not kept');
  for (let i = 0; i < 4; i++) log.warn({ sessionId: 'secret-session', n: i }, `warning ${i}`);
  log.error('an error');
  const lines = recent.list();
  assert.deepEqual(lines.map((l) => [l.level, l.msg]), [['warn', 'warning 2'], ['warn', 'warning 3'], ['error', 'an error']]);
  assert.ok(!JSON.stringify(lines).includes('secret-session'));
  assert.match(lines[0]!.detail, /"sessionId":"\[masked\]"/);
});
