/** RecentSet (src/server/broker/recent-set.ts): the bus's memory of recent claims and copies. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RecentSet } from '../../src/server/broker/recent-set.js';

test('remembers at least the most recent `limit` members, and forgets those older than twice that', () => {
  const set = new RecentSet<number>(10);
  for (let n = 1; n <= 25; n++) {
    set.add(n);
    for (let back = 0; back < Math.min(10, n); back++) assert.equal(set.has(n - back), true, `after ${n}: ${n - back} is among the last 10`);
  }
  for (let n = 1; n <= 5; n++) assert.equal(set.has(n), false, `${n} is more than 20 members back`);
  assert.equal(set.has(26), false);
});

test('adding a member again keeps it', () => {
  const set = new RecentSet<string>(3);
  set.add('a');
  set.add('a');
  set.add('b');
  assert.equal(set.has('a'), true);
  assert.equal(set.has('b'), true);
});
