// Preloaded into every benchmarked server (`node --expose-gc --import ./bench/probe.mjs …`):
// answers the runner's IPC request with this process's memory (after a full GC), CPU time and
// event-loop delay since the last request with `resetLag`, so portico-ws is measured as the
// unmodified `dist/cli/main.js start` process.
import { monitorEventLoopDelay } from 'node:perf_hooks';

if (process.send) {
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const ms = (ns) => Math.round(ns / 1e4) / 100;
  process.on('message', (m) => {
    if (!m || m.probe !== 'stats') return;
    if (m.gc && typeof globalThis.gc === 'function') {
      globalThis.gc();
      globalThis.gc();
    }
    const loop = { meanMs: ms(lag.mean), p99Ms: ms(lag.percentile(99)), maxMs: ms(lag.max) };
    if (m.resetLag) lag.reset();
    process.send({ probe: 'stats', id: m.id, memory: process.memoryUsage(), cpu: process.cpuUsage(), loop });
  });
  process.channel?.unref();
}
