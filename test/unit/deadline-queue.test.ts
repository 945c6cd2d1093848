/** The one-timer queue behind the recovery watch and settle times (src/server/recovery/deadline-queue.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DeadlineQueue } from '../../src/server/recovery/deadline-queue.js';

test('items run once each, in order, when their delay has passed, and not before', async () => {
  let now = 1000;
  const ran: string[] = [];
  const queue = new DeadlineQueue<string>(20, (item) => ran.push(item), () => now);
  queue.add('a');
  now += 5;
  queue.add('b');
  assert.equal(queue.size, 2);
  now += 16; // a is due (21 ms after it was queued), b is not (16 ms)
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.deepEqual(ran, ['a']);
  assert.equal(queue.size, 1);
  now += 10;
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.deepEqual(ran, ['a', 'b']);
  assert.equal(queue.size, 0);
  queue.add('c');
  now += 25;
  await new Promise((resolve) => setTimeout(resolve, 40));
  assert.deepEqual(ran, ['a', 'b', 'c'], 'an emptied queue arms its timer again');
});

test('a long queue is worked off by one timer and compacted as it goes', async () => {
  let now = 0;
  const ran: number[] = [];
  const queue = new DeadlineQueue<number>(10, (item) => ran.push(item), () => now);
  for (let i = 0; i < 5000; i++) {
    if (i > 0 && i % 1000 === 0) now += 4; // five groups, queued at 0, 4, 8, 12 and 16 ms
    queue.add(i);
  }
  now = 15; // due: the groups queued at 0 and 4 ms (10 ms ago or more)
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(ran.length, 2000);
  assert.deepEqual(ran.slice(0, 3), [0, 1, 2]);
  now += 100;
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(ran.length, 5000);
  assert.ok(ran.every((v, i) => v === i), 'in the order they were queued');
  assert.equal(queue.size, 0);
});
