// Preloaded into every benchmarked server (`node --expose-gc --import ./bench/probe.mjs …`):
// answers the runner's IPC request with this process's memory (after a full GC) and CPU time,
// so portico-ws is measured as the unmodified `dist/cli/main.js start` process.
if (process.send) {
  process.on('message', (m) => {
    if (!m || m.probe !== 'stats') return;
    if (m.gc && typeof globalThis.gc === 'function') {
      globalThis.gc();
      globalThis.gc();
    }
    process.send({ probe: 'stats', id: m.id, memory: process.memoryUsage(), cpu: process.cpuUsage() });
  });
  process.channel?.unref();
}
