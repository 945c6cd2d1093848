/**
 * The delivery benchmarks (issue "No message lost"):
 * - fan-out with stream history on vs off: the same broadcast flow against portico-ws started
 *   with `WSS_HISTORY_SIZE=0` and with the default history (goal: on ≥ 0.8× off);
 * - a reconnect storm: N clients on instance A of two (one Redis), A killed, all reconnect to B
 *   and each recovers what it missed (`broadcasts` + `perSession` messages): time until every
 *   client has recovered, duplicates and gaps, Redis CPU (INFO cpu) and B's event-loop delay.
 */
import type { LatencySummary } from './lib/histogram.js';
import { RespPublisher } from './lib/resp-publisher.js';
import type { LoadGenClient } from './loadgen-client.js';
import type { BenchOptions } from './scenarios.js';
import { freePort, SERVERS, startServer, type ProbeStats, type ServerProcess, type ServerSpec } from './server-process.js';
import type { StormResult } from './storm-pool.js';

/** `burst`: publish the missed messages all at once instead of in slices that history has taken in. */
export interface StormOptions { clients: number; broadcasts: number; perSession: number; burst?: boolean }
export const STORM_FULL: StormOptions = { clients: 10_000, broadcasts: 10, perSession: 10 };

/** `p50Ms`: publish-to-delivery latency; with a closed loop of `window` broadcasts it bounds the rate when the server is not CPU-bound. */
interface FanoutSample { deliveriesPerSecond: number; lost: number; serverCpu: number; p50Ms: number }

export interface HistoryFanoutReport {
  connections: number;
  window: number;
  /** Off and on alternate `rounds` times; the best run of each counts (the machine is shared, interference only slows). */
  rounds: number;
  historyOff: FanoutSample;
  historyOn: FanoutSample;
  samples: { off: number[]; on: number[] };
  ratio: number;
}

export interface StormReport {
  options: StormOptions;
  connectedToA: number;
  /** How long the first connections to A took (same handshakes, no recovery): the baseline for `reconnectSeconds`. */
  connectSeconds: number;
  primed: number;
  /** True when, before the reconnects, history held every missed message and B delivered live. */
  survivorCaughtUp: boolean;
  /** Publishing the missed messages until history held them (B alone appends them: A is dead). */
  missedPublishSeconds: number;
  result: StormResult;
  redisCpuPercent: number;
  /** CPU the survivor spent per reconnecting client (handshake + recovery), against A's CPU per first connection. */
  survivor: { cpuPercent: number; cpuMsPerClient: number; loop: ProbeStats['loop'] };
  connectCpuMsPerClient: number;
}

const portico = (): ServerSpec => SERVERS.find((s) => s.name === 'portico-ws')!;

/** portico-ws with extra environment (history switch, instance id). */
function porticoWith(name: string, extra: Record<string, string>): ServerSpec {
  const base = portico();
  return { ...base, name, label: name, env: (port, redisPort) => ({ ...base.env(port, redisPort), ...extra }) };
}

const cpuMs = (a: ProbeStats, b: ProbeStats): number => (b.cpu.user - a.cpu.user + b.cpu.system - a.cpu.system) / 1000;

function cpuPercent(a: ProbeStats, b: ProbeStats, ms: number): number {
  return (cpuMs(a, b) / Math.max(1, ms)) * 100;
}

/** Wait until `count` processes subscribed to `notifications`. */
async function waitSubscribers(pub: RespPublisher, count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await pub.numsub('notifications')) >= count) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`fewer than ${count} servers subscribed to "notifications"`);
}

async function fanoutOnce(spec: ServerSpec, redisPort: number, pub: RespPublisher, loadgen: LoadGenClient, o: BenchOptions) {
  const port = await freePort();
  const server = await startServer(spec, { port, redisPort, core: o.serverCore, nofile: o.nofile });
  try {
    await waitSubscribers(pub, 1, 15_000);
    await loadgen.init({ port, path: spec.path, dialect: spec.dialect, redisPort, runTag: Math.random().toString(36).slice(2, 6) });
    const conn = await loadgen.connect({ count: o.connections, concurrency: o.connectConcurrency, timeoutMs: o.timeoutMs, keep: true });
    if (conn.opened === 0) throw new Error(`${spec.name}: no connection opened (${conn.failures.join('; ')})`);
    const flow = { window: o.fanoutWindow, timeoutMs: o.timeoutMs };
    if (o.warmupMs > 0) await loadgen.fanout({ durationMs: o.warmupMs, ...flow });
    const s0 = await server.stats(false);
    const t0 = performance.now();
    const result = await loadgen.fanout({ durationMs: o.fanoutMs, ...flow });
    const s1 = await server.stats(false);
    return {
      connections: conn.opened, deliveriesPerSecond: result.deliveriesPerSecond, lost: result.lost,
      serverCpu: cpuPercent(s0, s1, performance.now() - t0), p50Ms: result.latency.p50Ms,
    };
  } finally {
    await loadgen.closeAll().catch(() => {});
    await server.stop();
  }
}

/** Broadcast fan-out, history off and on alternately; one server at a time, on the server core. */
export async function historyFanout(redisPort: number, loadgen: LoadGenClient, o: BenchOptions, rounds: number, log: (s: string) => void): Promise<HistoryFanoutReport> {
  const pub = await RespPublisher.connect(redisPort);
  const specs = { off: porticoWith('portico-ws-history-off', { WSS_HISTORY_SIZE: '0' }), on: porticoWith('portico-ws-history-on', {}) };
  const runs: Record<'off' | 'on', Array<FanoutSample & { connections: number }>> = { off: [], on: [] };
  try {
    for (let round = 0; round < rounds; round++) {
      for (const mode of ['off', 'on'] as const) {
        const r = await fanoutOnce(specs[mode], redisPort, pub, loadgen, o);
        runs[mode].push(r);
        log(`  history ${mode}: ${Math.round(r.deliveriesPerSecond)} deliveries/s, p50 ${r.p50Ms.toFixed(1)} ms (server ${r.serverCpu.toFixed(0)}% CPU, ${r.lost} lost)`);
      }
    }
  } finally {
    pub.close();
  }
  const best = (list: Array<FanoutSample & { connections: number }>) => list.reduce((a, b) => (b.deliveriesPerSecond > a.deliveriesPerSecond ? b : a));
  const { connections, ...historyOn } = best(runs.on);
  const { connections: _off, ...historyOff } = best(runs.off);
  return {
    connections, window: o.fanoutWindow, rounds, historyOff, historyOn,
    samples: { off: runs.off.map((r) => Math.round(r.deliveriesPerSecond)), on: runs.on.map((r) => Math.round(r.deliveriesPerSecond)) },
    ratio: historyOn.deliveriesPerSecond / Math.max(1, historyOff.deliveriesPerSecond),
  };
}

/** Two instances, clients on A, A killed, everyone recovers on B. */
export async function reconnectStorm(redisPort: number, loadgen: LoadGenClient, o: BenchOptions, s: StormOptions, log: (s: string) => void): Promise<StormReport> {
  const pub = await RespPublisher.connect(redisPort);
  const runTag = Math.random().toString(36).slice(2, 6);
  const servers: ServerProcess[] = [];
  try {
    const [portA, portB] = [await freePort(), await freePort()];
    const a = await startServer(porticoWith('storm-a', { WSS_INSTANCE_ID: `storm-a-${runTag}` }), { port: portA, redisPort, core: o.serverCore, nofile: o.nofile, profileDir: o.profileDir });
    servers.push(a);
    const b = await startServer(porticoWith('storm-b', { WSS_INSTANCE_ID: `storm-b-${runTag}` }), { port: portB, redisPort, core: o.serverCore, nofile: o.nofile, profileDir: o.profileDir });
    servers.push(b);
    await waitSubscribers(pub, 2, 15_000);
    await loadgen.init({ port: portA, path: '/wss', dialect: 'ws', redisPort, runTag });
    const timeoutMs = Math.max(o.timeoutMs, 60_000);
    const a0 = await a.stats(false);
    const c0 = performance.now();
    const conn = await loadgen.stormConnect({ port: portA, witnessPort: portB, count: s.clients, concurrency: o.connectConcurrency, timeoutMs: o.timeoutMs, runTag });
    const connectSeconds = (performance.now() - c0) / 1000;
    const connectCpuMs = cpuMs(a0, await a.stats(false)) / Math.max(1, conn.opened);
    log(`  storm: ${conn.opened} clients on A in ${connectSeconds.toFixed(2)} s${conn.failures.length ? ` (failures: ${conn.failures.join('; ')})` : ''}`);
    const { primed } = await loadgen.stormPrime({ timeoutMs });
    log(`  storm: ${primed} clients know their positions; killing A`);
    await a.kill();
    await loadgen.stormWaitClosed({ timeoutMs });
    const caught = await loadgen.stormMiss({ broadcasts: s.broadcasts, perSession: s.perSession, timeoutMs, redisPort, burst: s.burst });
    log(`  storm: ${s.broadcasts} broadcasts + ${s.perSession} per session published while A is down${s.burst ? ' (one burst)' : ''} in ${caught.publishSeconds.toFixed(2)} s;`
      + ` B delivers: ${caught.witnessSeen}, all in history: ${caught.historyComplete}`);
    if (!caught.witnessSeen || !caught.historyComplete) log(`  storm: B's stderr: ${b.stderrTail().slice(-1500)}`);
    const redis0 = await pub.redisCpuSeconds();
    const b0 = await b.stats(false, true);
    const t0 = performance.now();
    const result = await loadgen.stormReconnect({ port: portB, concurrency: o.connectConcurrency, timeoutMs });
    const ms = performance.now() - t0;
    const b1 = await b.stats(false, true);
    const redis1 = await pub.redisCpuSeconds();
    const report: StormReport = {
      options: s, connectedToA: conn.opened, connectSeconds, primed, survivorCaughtUp: caught.witnessSeen && caught.historyComplete,
      missedPublishSeconds: caught.publishSeconds, result,
      redisCpuPercent: ((redis1 - redis0) * 1000 / Math.max(1, ms)) * 100,
      survivor: { cpuPercent: cpuPercent(b0, b1, ms), cpuMsPerClient: cpuMs(b0, b1) / Math.max(1, result.clients), loop: b1.loop },
      connectCpuMsPerClient: connectCpuMs,
    };
    log(`  storm: ${result.complete}/${result.clients} recovered completely in ${result.secondsToAll === null ? 'n/a (not all)' : `${result.secondsToAll.toFixed(2)} s`}`
      + ` (per client p50 ${fmt(result.perClientMs, 'p50Ms')} ms, p99 ${fmt(result.perClientMs, 'p99Ms')} ms), ${result.duplicates} duplicates, ${result.gaps} gaps,`
      + ` ${result.answered - result.recovered} answered recovered:false; Redis ${report.redisCpuPercent.toFixed(0)}% CPU, B ${report.survivor.cpuPercent.toFixed(0)}% CPU, B loop delay p99 ${b1.loop.p99Ms} ms max ${b1.loop.maxMs} ms`);
    return report;
  } finally {
    await loadgen.stormClose().catch(() => {});
    for (const server of servers) await server.stop();
    pub.close();
  }
}

const fmt = (h: LatencySummary, key: 'p50Ms' | 'p99Ms'): string => h[key].toFixed(0);

export function recoveryMarkdown(history: HistoryFanoutReport | null, storm: StormReport | null): string {
  const lines: string[] = [];
  if (history) {
    // Server CPU per delivery stays comparable when the machine is shared and the rate is not.
    const usPer = (r: FanoutSample) => (r.serverCpu * 10_000) / Math.max(1, r.deliveriesPerSecond);
    const row = (name: string, r: FanoutSample) => `| ${name} | ${Math.round(r.deliveriesPerSecond)} | ${r.p50Ms.toFixed(1)} | ${r.serverCpu.toFixed(0)} | ${usPer(r).toFixed(2)} | ${r.lost} |`;
    lines.push(`| fan-out, ${history.connections} connections, ${history.window} broadcasts in flight | deliveries/s | p50 ms | server CPU % | server CPU µs/delivery | lost |`, '| --- | --- | --- | --- | --- | --- |',
      row('history off', history.historyOff), row('history on', history.historyOn),
      '', `History on ÷ off: **${history.ratio.toFixed(2)}×** (goal ≥ 0.8×), best of ${history.rounds} alternating runs each`
        + ` (off ${history.samples.off.join(', ')}; on ${history.samples.on.join(', ')} deliveries/s).`, '');
  }
  if (storm) {
    const r = storm.result;
    lines.push(`| reconnect storm | value |`, '| --- | --- |',
      `| clients on A, killed, reconnecting to B | ${r.clients} |`,
      `| missed per client | ${r.expectedPerClient} (${storm.options.broadcasts} broadcast + ${storm.options.perSession} session), in history after ${storm.missedPublishSeconds.toFixed(1)} s: ${storm.survivorCaughtUp} |`,
      `| time until every client reconnected (handshakes) | ${r.reconnectSeconds.toFixed(2)} s (first connect to A, no recovery: ${storm.connectSeconds.toFixed(2)} s) |`,
      `| time until every client recovered | ${r.secondsToAll === null ? `not all: ${r.complete} complete` : `${r.secondsToAll.toFixed(2)} s`} |`,
      `| per-client recovery p50 / p99 / max | ${r.perClientMs.p50Ms.toFixed(0)} / ${r.perClientMs.p99Ms.toFixed(0)} / ${r.perClientMs.maxMs.toFixed(0)} ms |`,
      `| answered recovered:true / answered | ${r.recovered} / ${r.answered} |`,
      `| duplicates / gaps | ${r.duplicates} / ${r.gaps} |`,
      `| Redis CPU during the storm | ${storm.redisCpuPercent.toFixed(0)} % |`,
      `| survivor CPU / event-loop delay p99 / max | ${storm.survivor.cpuPercent.toFixed(0)} % / ${storm.survivor.loop.p99Ms} ms / ${storm.survivor.loop.maxMs} ms |`,
      `| survivor CPU per client (reconnect + recovery) / A's per first connection | ${storm.survivor.cpuMsPerClient.toFixed(2)} ms / ${storm.connectCpuMsPerClient.toFixed(2)} ms |`);
  }
  return lines.join('\n');
}
