/** Per-stream order on one instance (src/server/broker/stream-order.ts), with a history read the test controls. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { BROADCAST_STREAM, type HistoryRead, type Publication } from '../../src/server/broker/broker.js';
import { StreamOrder } from '../../src/server/broker/stream-order.js';

const EPOCH = 'e1';
const positioned = (offset: number, label: string): Publication => ({
  origin: 'gw-b', target: { kind: 'all' }, frame: `{"m":"${label}"}`, position: { stream: BROADCAST_STREAM, offset, epoch: EPOCH },
});
const unpositioned = (label: string): Publication => ({ origin: 'gw-a', target: { kind: 'all' }, frame: `{"m":"${label}"}` });

/** A StreamOrder on the broadcast stream whose history reads wait until `answer` is called. */
function orderWithPendingRead() {
  const delivered: string[] = [];
  let answer: (read: HistoryRead) => void = () => assert.fail('no history read was started');
  const order = new StreamOrder(
    () => false,
    () => new Promise<HistoryRead>((resolve) => { answer = resolve; }),
    (p) => delivered.push(JSON.parse(p.frame).m as string),
    100,
    pino({ level: 'silent' }),
  );
  return { order, delivered, answer: (read: HistoryRead) => answer(read) };
}

test('a gap holds the stream until history fills it, then everything is delivered in offset order', async () => {
  const { order, delivered, answer } = orderWithPendingRead();
  order.baseline(BROADCAST_STREAM, { offset: 1, epoch: EPOCH });
  order.accept(positioned(2, 'two'));
  order.accept(positioned(4, 'four')); // 3 is missing
  order.accept(positioned(5, 'five'));
  assert.deepEqual(delivered, ['two'], 'nothing after the gap before it is filled');
  answer({ top: { offset: 5, epoch: EPOCH }, publications: [{ offset: 3, frame: '{"m":"three"}', origin: 'gw-c' }] });
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(delivered, ['two', 'three', 'four', 'five']);
  order.accept(positioned(5, 'five again'));
  assert.deepEqual(delivered, ['two', 'three', 'four', 'five'], 'a copy of a delivered offset is dropped');
});

test('a publication delivered here without a position waits behind its stream while a gap is filled', async () => {
  const { order, delivered, answer } = orderWithPendingRead();
  order.baseline(BROADCAST_STREAM, { offset: 1, epoch: EPOCH });
  order.accept(positioned(3, 'accepted first')); // 2 is missing: the stream is held while history is read
  order.deliverNow(unpositioned('accepted later')); // Redis went away meanwhile: delivered here at once…
  order.deliverNow({ ...unpositioned('other stream'), target: { kind: 'room', roomId: 'entity_x' } });
  assert.deepEqual(delivered, ['other stream'], '…unless its stream is held');
  answer({ top: { offset: 3, epoch: EPOCH }, publications: [{ offset: 2, frame: '{"m":"missing"}', origin: 'gw-c' }] });
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(delivered, ['other stream', 'missing', 'accepted first', 'accepted later']);
  order.deliverNow(unpositioned('after the fill'));
  assert.equal(delivered.at(-1), 'after the fill', 'once the stream is free, at once');
});
