/**
 * Runs every scenario against one server, one server at a time, with the same load generator:
 * (a) idle memory per connection, (b) broadcast fan-out with several broadcasts in flight,
 * (d) latency at a fixed broadcast rate, (c) session-targeted messages, (e) handshakes with a
 * session cookie. Each flow reports the server's and the load generator's CPU.
 */
import type { ConnectResult, FlowResult } from './loadgen.js';
import type { LoadGenClient } from './loadgen-client.js';
import { RespPublisher } from './lib/resp-publisher.js';
import { freePort, startServer, type ProbeStats, type ServerProcess, type ServerSpec } from './server-process.js';

export interface BenchOptions {
  connections: number;
  handshakes: number;
  connectConcurrency: number;
  warmupMs: number;
  fanoutMs: number;
  fanoutWindow: number;
  latencyRate: number;
  latencyMs: number;
  targetedMs: number;
  targetedWindow: number;
  timeoutMs: number;
  serverCore: number | null;
  nofile: number;
  profileDir?: string;
}

export interface Measured<T> { result: T; serverCpu: number }

export interface ServerResult {
  name: string;
  label: string;
  memory: { connections: number; failed: number; rssPerConnectionKB: number; heapPerConnectionKB: number; rssMB: number; heapMB: number };
  fanout: Measured<FlowResult>;
  latency: Measured<FlowResult>;
  targeted: Measured<FlowResult>;
  handshakes: Measured<ConnectResult>;
  dropped: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function measured<T>(server: ServerProcess, run: () => Promise<T>): Promise<Measured<T>> {
  const s0 = await server.stats(false);
  const t0 = performance.now();
  const result = await run();
  const s1 = await server.stats(false);
  return { result, serverCpu: cpuPercent(s0, s1, performance.now() - t0) };
}

function cpuPercent(a: ProbeStats, b: ProbeStats, ms: number): number {
  return ((b.cpu.user - a.cpu.user + b.cpu.system - a.cpu.system) / 1000 / Math.max(1, ms)) * 100;
}

/** Wait until the server subscribed to `notifications` (servers run one at a time, so 1 is it). */
async function waitSubscribed(redisPort: number, timeoutMs: number): Promise<void> {
  const pub = await RespPublisher.connect(redisPort);
  try {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if ((await pub.numsub('notifications')) > 0) return;
      await sleep(100);
    }
    throw new Error('the server never subscribed to the Redis channel "notifications"');
  } finally {
    pub.close();
  }
}

export async function benchServer(spec: ServerSpec, redisPort: number, loadgen: LoadGenClient, o: BenchOptions, log: (s: string) => void): Promise<ServerResult> {
  const port = await freePort();
  const server = await startServer(spec, { port, redisPort, core: o.serverCore, nofile: o.nofile, profileDir: o.profileDir });
  try {
    await waitSubscribed(redisPort, 15_000);
    await loadgen.init({ port, path: spec.path, dialect: spec.dialect, redisPort, runTag: Math.random().toString(36).slice(2, 6) });
    await sleep(300);
    const base = await server.stats(true);
    const conn = await loadgen.connect({ count: o.connections, concurrency: o.connectConcurrency, timeoutMs: o.timeoutMs, keep: true });
    if (conn.opened === 0) throw new Error(`${spec.name}: no connection opened (${conn.failures.join('; ')})`);
    await sleep(1000);
    const idle = await server.stats(true);
    const memory = {
      connections: conn.opened, failed: conn.failed,
      rssPerConnectionKB: (idle.memory.rss - base.memory.rss) / 1024 / conn.opened,
      heapPerConnectionKB: (idle.memory.heapUsed - base.memory.heapUsed) / 1024 / conn.opened,
      rssMB: idle.memory.rss / 1048576, heapMB: idle.memory.heapUsed / 1048576,
    };
    log(`  ${spec.name}: ${conn.opened} connected (${conn.failed} failed), ${memory.rssPerConnectionKB.toFixed(1)} KB RSS/conn`);

    const flow = { timeoutMs: o.timeoutMs };
    if (o.warmupMs > 0) await loadgen.fanout({ durationMs: o.warmupMs, window: o.fanoutWindow, ...flow });
    const fanout = await measured(server, () => loadgen.fanout({ durationMs: o.fanoutMs, window: o.fanoutWindow, ...flow }));
    log(`  ${spec.name}: fan-out ${Math.round(fanout.result.deliveriesPerSecond)} deliveries/s (loadgen ${fanout.result.cpu.toFixed(0)}% CPU, server ${fanout.serverCpu.toFixed(0)}%)`);
    const latency = await measured(server, () => loadgen.rate({ perSecond: o.latencyRate, durationMs: o.latencyMs, ...flow }));
    log(`  ${spec.name}: at ${o.latencyRate}/s p50 ${latency.result.latency.p50Ms.toFixed(2)} ms, p99 ${latency.result.latency.p99Ms.toFixed(2)} ms`);
    const targeted = await measured(server, () => loadgen.targeted({ durationMs: o.targetedMs, window: o.targetedWindow, ...flow }));
    log(`  ${spec.name}: targeted ${Math.round(targeted.result.messagesPerSecond)} msg/s, p99 ${targeted.result.latency.p99Ms.toFixed(2)} ms (loadgen ${targeted.result.cpu.toFixed(0)}% CPU, server ${targeted.serverCpu.toFixed(0)}%)`);
    const { dropped } = await loadgen.status();
    await loadgen.closeAll();
    await sleep(1500);
    const handshakes = await measured(server, () => loadgen.connect({ count: o.handshakes, concurrency: o.connectConcurrency, timeoutMs: o.timeoutMs, keep: false }));
    log(`  ${spec.name}: ${Math.round(handshakes.result.perSecond)} handshakes/s (${handshakes.result.failed} failed; loadgen ${handshakes.result.cpu.toFixed(0)}% CPU, server ${handshakes.serverCpu.toFixed(0)}%)`);
    await sleep(500);
    return { name: spec.name, label: spec.label, memory, fanout, latency, targeted, handshakes, dropped };
  } finally {
    await loadgen.closeAll().catch(() => {});
    await server.stop();
  }
}
