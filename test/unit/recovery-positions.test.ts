/** Stream positions for greetings (src/server/recovery/recovery.ts): one history read per round trip, never from before the caller joined. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { BROADCAST_STREAM, type Broker, type HistoryRead } from '../../src/server/broker/broker.js';
import { Recovery } from '../../src/server/recovery/recovery.js';
import { RoomRegistry } from '../../src/server/rooms.js';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** A broker whose history reads wait until the test answers them, in the order they were made. */
function brokerWithPendingReads() {
  const reads: Array<{ stream: string; answer: (top: number) => void }> = [];
  const broker: Pick<Broker, 'historyEnabled' | 'history'> = {
    historyEnabled: true,
    history: (stream) => new Promise<HistoryRead>((resolve) => {
      reads.push({ stream, answer: (top) => resolve({ top: { offset: top, epoch: 'e1' }, publications: [] }) });
    }),
  };
  const recovery = new Recovery(broker as Broker, new RoomRegistry(), 100, 4, pino({ level: 'silent' }));
  return { recovery, reads };
}

test('greetings of one turn share one read of a stream\'s top', async () => {
  const { recovery, reads } = brokerWithPendingReads();
  const first = recovery.positions([BROADCAST_STREAM]);
  const second = recovery.positions([BROADCAST_STREAM, 'session_0123456789']);
  await nextTurn();
  assert.deepEqual(reads.map((r) => r.stream), [BROADCAST_STREAM, 'session_0123456789'], 'one read per stream, not per caller');
  reads[0]!.answer(7);
  reads[1]!.answer(2);
  assert.deepEqual(await first, { broadcast: { offset: 7, epoch: 'e1' } });
  assert.deepEqual(await second, { broadcast: { offset: 7, epoch: 'e1' }, session_0123456789: { offset: 2, epoch: 'e1' } });
});

test('callers that join while a read is under way get the next one, started after that one came back', async () => {
  const { recovery, reads } = brokerWithPendingReads();
  const early = recovery.positions([BROADCAST_STREAM]);
  await nextTurn();
  assert.equal(reads.length, 1);
  // Three handshakes while the first read is out: they must not get its answer (it may have been
  // read before they joined), and they must not cost a read each.
  const late = [recovery.positions([BROADCAST_STREAM])];
  await nextTurn();
  late.push(recovery.positions([BROADCAST_STREAM]), recovery.positions([BROADCAST_STREAM]));
  await nextTurn();
  assert.equal(reads.length, 1, 'no second read while the first is under way');
  reads[0]!.answer(10);
  assert.deepEqual(await early, { broadcast: { offset: 10, epoch: 'e1' } });
  await nextTurn();
  await nextTurn();
  assert.equal(reads.length, 2, 'one read for all three');
  reads[1]!.answer(12);
  for (const p of late) assert.deepEqual(await p, { broadcast: { offset: 12, epoch: 'e1' } });
});
