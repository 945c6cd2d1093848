/**
 * Redis connected but refusing writes (maxmemory reached with noeviction): a publication kept for
 * replay is retried at a measured pace, not in a tight loop that floods the log and Redis, and it
 * goes out once Redis accepts writes again.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rawPublisher, startRedisGateway, teardown, waitFor } from '../helpers/redis-gateway.js';
import { startRedisServer } from '../helpers/redis-server.js';
import { quietWindow } from '../helpers/wait.js';
import { TestClient } from '../helpers/ws-client.js';

test('a replay Redis refuses is retried with a pause, then delivered', async () => {
  const server = await startRedisServer();
  const A = await startRedisGateway(server);
  const B = await startRedisGateway(server);
  const admin = rawPublisher(server);
  const sender = await TestClient.connect(A.url);
  const receiver = await TestClient.connect(B.url);
  try {
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    await admin.config('SET', 'maxmemory', '1');
    sender.send({ type: 'chat', message: 'while full' });
    await waitFor(() => A.lines.some((l) => /kept for replay/.test(l.msg)), 'the publish was refused and kept');
    const before = A.lines.length;
    const commandsBefore = Number(/total_commands_processed:(\d+)/.exec(await admin.info('stats'))![1]);
    await quietWindow(1000);
    const logged = A.lines.length - before;
    const commands = Number(/total_commands_processed:(\d+)/.exec(await admin.info('stats'))![1]) - commandsBefore;
    assert.ok(logged <= 3, `${logged} log lines in one second while Redis refused writes`);
    assert.ok(commands <= 50, `${commands} Redis commands in one second while Redis refused writes`);
    await admin.config('SET', 'maxmemory', '0');
    await receiver.next((m) => m.message === 'while full', 10_000);
  } finally {
    admin.disconnect();
    await teardown(server, [A, B], [sender, receiver]);
  }
});
