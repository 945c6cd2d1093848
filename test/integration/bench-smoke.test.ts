/**
 * Smoke run of the benchmark harness (not a speed test): portico-ws (the built `dist/` process)
 * and the packed bare-ws peer, a few hundred connections, one-second flows. Checks that the load
 * generator connects, the Redis trigger reaches both servers, deliveries and latencies are
 * counted, handshakes complete, and the JSON/SVG/Markdown results are written.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { runBench } from '../../bench/run.js';
import { tempDir } from '../helpers/gateway.js';

test('bench harness runs end-to-end against portico-ws and a peer', { timeout: 60_000 }, async () => {
  const outDir = tempDir('portico-bench-smoke-');
  const connections = 300;
  const report = await runBench({
    mode: 'custom', servers: ['portico-ws', 'ws-packed'], loadgenCore: null, outDir, log: () => {},
    options: {
      connections, handshakes: 150, connectConcurrency: 50, warmupMs: 0, fanoutMs: 1000, fanoutWindow: 2,
      latencyRate: 5, latencyMs: 1000, targetedMs: 1000, targetedWindow: 8, timeoutMs: 10_000, serverCore: null, nofile: 4096,
    },
  });
  assert.deepEqual(report.skipped, []);
  assert.deepEqual(report.servers.map((s) => s.name), ['portico-ws', 'ws-packed']);
  for (const s of report.servers) {
    assert.equal(s.memory.connections, connections, `${s.name}: every connection opened`);
    const f = s.fanout.result;
    assert.ok(f.messages >= 2, `${s.name}: broadcasts were published`);
    assert.equal(f.lost, 0, `${s.name}: no broadcast lost`);
    assert.equal(f.deliveries, f.messages * connections, `${s.name}: every broadcast counted at every client`);
    assert.equal(f.latency.count, f.deliveries, `${s.name}: a latency sample per delivery`);
    const l = s.latency.result;
    assert.equal(l.deliveries, l.messages * connections, `${s.name}: fixed-rate broadcasts all delivered`);
    assert.ok(l.latency.p50Ms > 0 && l.latency.p99Ms >= l.latency.p50Ms);
    const t = s.targeted.result;
    assert.ok(t.messages > 0 && t.lost === 0 && t.deliveries === t.messages, `${s.name}: targeted messages each reached one client`);
    assert.equal(s.handshakes.result.opened, 150, `${s.name}: handshakes completed`);
  }
  for (const ext of ['json', 'svg', 'md']) assert.ok(fs.statSync(path.join(outDir, `custom.${ext}`)).size > 100);
  const md = fs.readFileSync(path.join(outDir, 'custom.md'), 'utf8');
  assert.match(md, /portico-ws ÷/);
  // The load generator's own CPU stands beside every throughput figure: near 100 % it is the limit.
  for (const figure of ['fan-out', 'targeted', 'handshakes']) assert.ok(md.includes(`loadgen CPU % (${figure})`), `loadgen CPU beside ${figure}`);
  for (const s of report.servers) {
    for (const cpu of [s.fanout.result.cpu, s.targeted.result.cpu, s.handshakes.result.cpu]) assert.ok(Number.isFinite(cpu) && cpu > 0, `${s.name}: loadgen CPU measured (${cpu})`);
  }
  fs.rmSync(outDir, { recursive: true, force: true });
});
