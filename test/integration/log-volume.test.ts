/**
 * Expected conditions are logged once per state change or once per connection, never once per
 * message: a client cannot fill the log by repeating itself.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestGateway } from '../helpers/gateway.js';
import { captureLogger, waitFor, type LogLine } from '../helpers/redis-gateway.js';
import { TestClient } from '../helpers/ws-client.js';

const atLeastWarn = (lines: LogLine[]) => lines.filter((l) => l.level >= 40);

test('get_partial_applications without a database: one info line at start, none per request', async () => {
  const { log, lines } = captureLogger();
  const gw = await startTestGateway({ limits: { ratePerSecond: 100_000, rateBurst: 100_000 } }, { log });
  try {
    const c = await TestClient.connect(gw.url, { cookie: 'PHPSESSID=logVolumeSession01' });
    const requests = 300;
    for (let i = 0; i < requests; i++) c.send({ type: 'get_partial_applications' });
    await waitFor(() => c.count((m) => m.type === 'partial_applications_response') === requests, 'every reply');
    assert.ok(c.messages.every((m) => m.type !== 'partial_applications_response' || m.data.message === 'Database not connected'));
    assert.deepEqual(atLeastWarn(lines).map((l) => l.msg), [], 'no warning or error');
    const mentions = lines.filter((l) => l.level >= 30 && /database/i.test(l.msg));
    assert.equal(mentions.length, 1, `one info line says there is no database: ${JSON.stringify(mentions)}`);
    assert.ok(!lines.some((l) => typeof (l.err as { stack?: unknown } | undefined)?.stack === 'string'), 'no stack traces');
    c.close();
  } finally {
    await gw.close();
  }
});

test('a connection flooding pings is closed with 1008 and logged once', async () => {
  const { log, lines } = captureLogger();
  const gw = await startTestGateway({ limits: { ratePerSecond: 50, rateBurst: 100, rateCloseAfter: 200 } }, { log });
  try {
    const c = await TestClient.connect(gw.url);
    for (let i = 0; i < 5000; i++) c.send({ type: 'ping', id: String(i) });
    assert.equal(await c.waitClosed(10_000), 1008);
    // Every frame the server read has been handled by the time the close completed; count then.
    const flood = lines.filter((l) => /flood/i.test(l.msg));
    assert.equal(flood.length, 1, `one line per connection, got ${flood.length}`);
    assert.ok(atLeastWarn(lines).length <= 1, `at most that one warning, got ${atLeastWarn(lines).length}`);
  } finally {
    await gw.close();
  }
});
