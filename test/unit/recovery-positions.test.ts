/**
 * Stream positions for greetings (src/server/recovery/recovery.ts): one history read per round
 * trip, never from before the caller joined; `broadcast` from what the instance knows while the
 * epoch it read is known to stand.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { BROADCAST_STREAM, type Broker, type HistoryRead } from '../../src/server/broker/broker.js';
import { Recovery } from '../../src/server/recovery/recovery.js';
import { RoomRegistry } from '../../src/server/rooms.js';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** A broker whose history reads wait until the test answers them, in the order they were made. */
function brokerWithPendingReads() {
  const reads: Array<{ stream: string; answer: (top: number, epochKeptMs?: number, epoch?: string) => void }> = [];
  const broker: Pick<Broker, 'historyEnabled' | 'history'> = {
    historyEnabled: true,
    history: (stream) => new Promise<HistoryRead>((resolve) => {
      reads.push({ stream, answer: (top, epochKeptMs, epoch = 'e1') => resolve({ top: { offset: top, epoch }, publications: [], ...(epochKeptMs ? { epochKeptMs } : {}) }) });
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

test('broadcast comes from what the instance knows while the epoch it read stands, and follows what it delivers', async () => {
  const { recovery, reads } = brokerWithPendingReads();
  const first = recovery.positions([BROADCAST_STREAM]);
  await nextTurn();
  reads[0]!.answer(5, 3_600_000);
  assert.deepEqual(await first, { broadcast: { offset: 5, epoch: 'e1' } });

  assert.deepEqual(await recovery.positions([BROADCAST_STREAM]), { broadcast: { offset: 5, epoch: 'e1' } });
  recovery.noteDelivered({ stream: BROADCAST_STREAM, offset: 6, epoch: 'e1' });
  recovery.noteDelivered({ stream: 'session_0123456789', offset: 40, epoch: 'e1' });
  assert.deepEqual(await recovery.positions([BROADCAST_STREAM]), { broadcast: { offset: 6, epoch: 'e1' } }, 'the last delivered is newer than the read');
  await nextTurn();
  assert.equal(reads.length, 1, 'no read while the epoch stands');

  recovery.noteDelivered({ stream: BROADCAST_STREAM, offset: 1, epoch: 'e2' });
  const restarted = recovery.positions([BROADCAST_STREAM]);
  await nextTurn();
  assert.equal(reads.length, 2, 'a publication in another epoch: read again');
  reads[1]!.answer(1, 3_600_000, 'e2');
  assert.deepEqual(await restarted, { broadcast: { offset: 1, epoch: 'e2' } });
  await recovery.positions([BROADCAST_STREAM]);
  assert.equal(reads.length, 2, 'the read in the epoch of the last delivery is kept');

  recovery.noteDelivered({ stream: BROADCAST_STREAM, offset: 9, epoch: 'e3' });
  const mixed = recovery.positions([BROADCAST_STREAM]);
  await nextTurn();
  reads[2]!.answer(4, 3_600_000, 'e4'); // neither is known to be the newer: not kept
  assert.deepEqual(await mixed, { broadcast: { offset: 4, epoch: 'e4' } });
  const again = recovery.positions([BROADCAST_STREAM]);
  await nextTurn();
  assert.equal(reads.length, 4, 'a read whose epoch differs from the last delivery is not reused');
  reads[3]!.answer(4, 3_600_000, 'e4');
  await again;

  recovery.forgetKnownTops(); // Redis went away or came back
  const afterOutage = recovery.positions([BROADCAST_STREAM]);
  await nextTurn();
  assert.equal(reads.length, 5, 'read again after a change of the bus status');
  reads[4]!.answer(9);
  assert.deepEqual(await afterOutage, { broadcast: { offset: 9, epoch: 'e1' } });
  const unknownEpochLife = recovery.positions([BROADCAST_STREAM]);
  await nextTurn();
  assert.equal(reads.length, 6, 'a read that does not say how long its epoch stands is not reused');
  reads[5]!.answer(9);
  await unknownEpochLife;
});

test('a read\'s epoch is trusted for less than it said, then read again', async () => {
  const { recovery, reads } = brokerWithPendingReads();
  const first = recovery.positions([BROADCAST_STREAM]);
  await nextTurn();
  reads[0]!.answer(2, 1_600); // stands 1.6 s; trusted for 0.6 s
  await first;
  assert.deepEqual(await recovery.positions([BROADCAST_STREAM]), { broadcast: { offset: 2, epoch: 'e1' } });
  await new Promise((resolve) => setTimeout(resolve, 700));
  const later = recovery.positions([BROADCAST_STREAM]);
  await nextTurn();
  assert.equal(reads.length, 2, 'past the trusted time: read again');
  reads[1]!.answer(3);
  assert.deepEqual(await later, { broadcast: { offset: 3, epoch: 'e1' } });
});
