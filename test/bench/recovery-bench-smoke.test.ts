/**
 * Smoke run of the delivery benchmarks (not a speed test): fan-out with history off and on, and a
 * reconnect storm of a hundred clients between two built `dist/` gateways on a private Redis.
 * Checks that every client learned its positions, the survivor caught up, every client sent
 * `recover` and got back exactly what it missed, once, with `recovered: true`, and that the
 * results are written.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { runBench } from '../../bench/run.js';
import { tempDir } from '../helpers/gateway.js';

test('history fan-out and reconnect storm run end-to-end against two portico-ws processes', { timeout: 120_000 }, async () => {
  const outDir = tempDir('portico-bench-recovery-');
  const report = await runBench({
    mode: 'custom', servers: [], loadgenCore: null, outDir, log: () => {}, parts: ['history', 'storm'], historyRounds: 1,
    storm: { clients: 100, broadcasts: 4, perSession: 3 },
    options: {
      connections: 200, handshakes: 0, connectConcurrency: 50, warmupMs: 0, fanoutMs: 1000, fanoutWindow: 2,
      latencyRate: 5, latencyMs: 0, targetedMs: 0, targetedWindow: 8, timeoutMs: 10_000, serverCore: null, nofile: 4096,
    },
  });
  const history = report.recovery?.history;
  assert.ok(history, 'history fan-out ran');
  for (const mode of ['historyOff', 'historyOn'] as const) {
    assert.ok(history[mode].deliveriesPerSecond > 0, `${mode}: deliveries counted`);
    assert.equal(history[mode].lost, 0, `${mode}: no broadcast lost`);
  }
  assert.ok(history.ratio > 0);

  const storm = report.recovery?.storm;
  assert.ok(storm, 'storm ran');
  assert.equal(storm.connectedToA, 100);
  assert.equal(storm.primed, 100, 'every client knew both positions before the kill');
  assert.equal(storm.survivorCaughtUp, true);
  const r = storm.result;
  assert.equal(r.expectedPerClient, 7);
  assert.equal(r.reconnected, 100);
  assert.equal(r.answered, 100, 'every client got a recovery_result');
  assert.equal(r.recovered, 100);
  assert.equal(r.duplicates, 0);
  assert.equal(r.gaps, 0);
  assert.equal(r.messages, 700, 'each client got exactly what it missed');
  assert.equal(r.missedReported, 700);
  assert.equal(r.complete, 100);
  assert.ok(r.secondsToAll !== null && r.secondsToAll > 0);
  assert.ok(storm.redisCpuPercent >= 0 && storm.survivor.loop.maxMs >= 0);
  const md = fs.readFileSync(path.join(outDir, 'recovery-custom.md'), 'utf8');
  assert.match(md, /History on ÷ off/);
  assert.match(md, /time until every client recovered \| \d/);
  fs.rmSync(outDir, { recursive: true, force: true });
});
