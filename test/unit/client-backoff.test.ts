/** The reconnect delay policy the client (and the Redis side) uses: capped exponential with jitter. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay } from '../../src/protocol/backoff.js';
import { WebSocketClient } from '../../src/client/client.js';
import { FakeEnv } from './client-fake-env.js';

test('delays double from the base and stop at the cap', () => {
  const top = () => 1;
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelay(n, { baseMs: 500, maxMs: 30_000, jitter: 0 }, top)),
    [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
  assert.equal(backoffDelay(1000, {}, top), 30_000, 'huge attempt numbers stay at the cap');
  assert.equal(backoffDelay(0, { baseMs: 500 }, top), 500, 'attempts below 1 count as the first');
});

test('jitter draws within [ceiling*(1-jitter), ceiling], so clients spread out', () => {
  for (const r of [0, 0.25, 0.5, 0.999]) {
    const d = backoffDelay(4, { baseMs: 500, maxMs: 30_000, jitter: 0.5 }, () => r);
    assert.ok(d >= 2000 && d <= 4000, `delay ${d} for random ${r}`);
  }
  assert.equal(backoffDelay(4, { jitter: 0.5 }, () => 0), 2000);
  assert.equal(backoffDelay(4, { jitter: 1 }, () => 0), 0);
  const spread = new Set(Array.from({ length: 50 }, () => backoffDelay(5)));
  assert.ok(spread.size > 10, 'Math.random spreads the default delays');
});

test('the client waits exactly the policy delay, drawn with its environment random', () => {
  const env = new FakeEnv();
  env.randomValue = 0.5;
  const client = new WebSocketClient(env, null, { backoff: { baseMs: 1000, maxMs: 5000, jitter: 0.5 } });
  const seen: number[] = [];
  for (let attempt = 1; attempt <= 5; attempt++) {
    env.socket.end();
    seen.push(env.delays.at(-1)!);
    env.advance(env.delays.at(-1)! - 1);
    assert.equal(client.getState(), 'reconnecting', 'not before the delay is over');
    env.advance(1);
    assert.equal(client.getState(), 'connecting');
  }
  assert.deepEqual(seen, [1, 2, 3, 4, 5].map((n) => backoffDelay(n, { baseMs: 1000, maxMs: 5000, jitter: 0.5 }, () => 0.5)));
  assert.deepEqual(seen, [750, 1500, 3000, 3750, 3750]);
  client.close();
});
