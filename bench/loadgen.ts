/**
 * The load generator process (forked by the runner, pinned to its own core). It holds the client
 * connections, publishes the Redis trigger itself (so send and receive timestamps come from one
 * clock), counts deliveries and records latency, and reports its own CPU use so a saturated
 * generator is visible. Commands arrive over the IPC channel; every loop is bounded in count and
 * time.
 */
import { Histogram, type LatencySummary } from './lib/histogram.js';
import { LiteSocket, type Dialect, type FrameSink } from './lib/lite-ws.js';
import { benchSessionId, broadcastPayload, readBench, sessionPayload } from './lib/payload.js';
import { RespPublisher } from './lib/resp-publisher.js';
import { StormPool } from './storm-pool.js';

export interface TargetSpec { port: number; path: string; dialect: Dialect; redisPort: number; runTag: string }
export interface ConnectResult { opened: number; failed: number; seconds: number; perSecond: number; failures: string[]; cpu: number }
export interface FlowResult {
  messages: number; deliveries: number; expected: number; lost: number; seconds: number;
  messagesPerSecond: number; deliveriesPerSecond: number; latency: LatencySummary; cpu: number; receivers: number;
}

const RING = 1 << 16;
const MASK = RING - 1;

interface Flow {
  firstSeq: number;
  remaining: Int32Array;
  sentAt: Float64Array;
  inflight: Set<number>;
  deliveries: number;
  messages: number;
  lost: number;
  lastDeliveryUs: number;
  onComplete: (seq: number) => void;
}

class LoadGenerator implements FrameSink {
  private target: TargetSpec | null = null;
  private publisher: RespPublisher | null = null;
  private held: LiteSocket[] = [];
  private nextIndex = 0;
  private seq = 1;
  private flow: Flow | null = null;
  private readonly hist = new Histogram();
  private readonly tsOut = new Float64Array(1);
  private readonly handshakeFailed = new Map<LiteSocket, (reason: string) => void>();
  dropped = 0;

  async init(spec: TargetSpec): Promise<{ ok: true }> {
    this.target = spec;
    this.publisher?.close();
    this.publisher = await RespPublisher.connect(spec.redisPort);
    return { ok: true };
  }

  /** Open `count` connections (unique session cookies), `concurrency` handshakes at a time. */
  connect(args: { count: number; concurrency: number; timeoutMs: number; keep: boolean }): Promise<ConnectResult> {
    const target = this.need();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const opened: LiteSocket[] = [];
    const failures: string[] = [];
    let started = 0;
    let settled = 0;
    return new Promise((resolve) => {
      const finish = () => {
        const seconds = (performance.now() - t0) / 1000;
        if (args.keep) this.held.push(...opened);
        else for (const c of opened) c.close();
        resolve({ opened: opened.length, failed: failures.length, seconds, perSecond: opened.length / seconds, failures: failures.slice(0, 5), cpu: cpuPercent(cpu0, t0) });
      };
      const settle = () => {
        settled += 1;
        if (started < args.count) startOne();
        else if (settled === args.count) finish();
      };
      const startOne = () => {
        started += 1;
        const index = this.nextIndex++;
        const conn = LiteSocket.open({
          port: target.port, path: target.path, dialect: target.dialect, index, sink: this,
          cookie: `bookingfrontendsession=${benchSessionId(target.runTag, index)}`,
        });
        const timer = setTimeout(() => conn.fail('handshake timeout'), args.timeoutMs);
        conn.onReady = () => {
          clearTimeout(timer);
          this.handshakeFailed.delete(conn);
          opened.push(conn);
          settle();
        };
        this.handshakeFailed.set(conn, (reason) => {
          clearTimeout(timer);
          failures.push(reason);
          settle();
        });
      };
      if (args.count === 0) return finish();
      for (let i = 0; i < Math.min(args.concurrency, args.count); i++) startOne();
    });
  }

  /** Close every held connection. */
  closeAll(): { closed: number } {
    const closed = this.held.length;
    for (const c of this.held) c.close();
    this.held = [];
    return { closed };
  }

  live(): number {
    let n = 0;
    for (const c of this.held) if (!c.closed) n += 1;
    return n;
  }

  /**
   * Broadcast fan-out: keep `window` broadcasts in flight; each completes when every held
   * connection got it (or after `timeoutMs`, counted lost) and is replaced until `durationMs`.
   */
  fanout(args: { durationMs: number; window: number; timeoutMs: number }): Promise<FlowResult> {
    const expectedPer = this.live();
    return this.closedLoop(args, expectedPer, (seq, us) => broadcastPayload(seq, us));
  }

  /** Session-targeted: `window` messages in flight, each to one random held connection's session. */
  targeted(args: { durationMs: number; window: number; timeoutMs: number }): Promise<FlowResult> {
    const target = this.need();
    const live = this.held.filter((c) => !c.closed);
    let k = 0;
    return this.closedLoop(args, 1, (seq, us) => {
      k = (k + 7919) % live.length;
      return sessionPayload(seq, us, benchSessionId(target.runTag, live[k]!.index));
    });
  }

  /** Open loop: `perSecond` broadcasts for `durationMs`, then wait for stragglers. */
  async rate(args: { perSecond: number; durationMs: number; timeoutMs: number }): Promise<FlowResult> {
    const expectedPer = this.live();
    const flow = this.startFlow(() => {});
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const total = Math.max(1, Math.round((args.perSecond * args.durationMs) / 1000));
    for (let i = 0; i < total; i++) {
      this.publishOne(flow, expectedPer, (seq, us) => broadcastPayload(seq, us));
      await sleep(t0 + ((i + 1) * 1000) / args.perSecond - performance.now());
    }
    await this.drain(flow, args.timeoutMs);
    return this.endFlow(flow, expectedPer, cpu0, t0);
  }

  private async closedLoop(args: { durationMs: number; window: number; timeoutMs: number }, expectedPer: number, make: (seq: number, us: number) => string): Promise<FlowResult> {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const deadline = t0 + args.durationMs;
    const flow = this.startFlow(() => {
      if (performance.now() < deadline) this.publishOne(flow, expectedPer, make);
    });
    for (let i = 0; i < args.window; i++) this.publishOne(flow, expectedPer, make);
    while (performance.now() < deadline) {
      await sleep(Math.min(100, deadline - performance.now()));
      this.expire(flow, args.timeoutMs, () => this.publishOne(flow, expectedPer, make));
    }
    await this.drain(flow, args.timeoutMs);
    return this.endFlow(flow, expectedPer, cpu0, t0);
  }

  private startFlow(onComplete: (seq: number) => void): Flow {
    this.hist.reset();
    const flow: Flow = {
      firstSeq: this.seq, remaining: new Int32Array(RING), sentAt: new Float64Array(RING), inflight: new Set(),
      deliveries: 0, messages: 0, lost: 0, lastDeliveryUs: 0, onComplete,
    };
    this.flow = flow;
    return flow;
  }

  private publishOne(flow: Flow, expectedPer: number, make: (seq: number, us: number) => string): void {
    const seq = this.seq++;
    const us = Math.round(performance.now() * 1000);
    flow.remaining[seq & MASK] = expectedPer;
    flow.sentAt[seq & MASK] = us;
    flow.inflight.add(seq);
    flow.messages += 1;
    this.publisher!.publish('notifications', make(seq, us));
  }

  private expire(flow: Flow, timeoutMs: number, replace: () => void): void {
    const limit = performance.now() * 1000 - timeoutMs * 1000;
    for (const seq of flow.inflight) {
      if (flow.sentAt[seq & MASK]! < limit) {
        flow.inflight.delete(seq);
        flow.lost += flow.remaining[seq & MASK]!;
        flow.remaining[seq & MASK] = 0;
        replace();
      }
    }
  }

  private async drain(flow: Flow, timeoutMs: number): Promise<void> {
    const until = performance.now() + timeoutMs;
    while (flow.inflight.size > 0 && performance.now() < until) await sleep(20);
    this.expire(flow, 0, () => {});
  }

  private endFlow(flow: Flow, expectedPer: number, cpu0: NodeJS.CpuUsage, t0: number): FlowResult {
    this.flow = null;
    const endUs = flow.lastDeliveryUs > 0 ? flow.lastDeliveryUs : performance.now() * 1000;
    const seconds = Math.max(1e-6, (endUs - t0 * 1000) / 1e6);
    return {
      messages: flow.messages, deliveries: flow.deliveries, expected: flow.messages * expectedPer, lost: flow.lost, seconds,
      messagesPerSecond: (flow.messages - flow.lost / Math.max(1, expectedPer)) / seconds,
      deliveriesPerSecond: flow.deliveries / seconds,
      latency: this.hist.summary(), cpu: cpuPercent(cpu0, t0), receivers: this.publisher!.receivers,
    };
  }

  text(_conn: LiteSocket, buf: Buffer, start: number, end: number, nowUs: number): void {
    const flow = this.flow;
    if (flow === null) return;
    const seq = readBench(buf, start, end, this.tsOut);
    if (seq < flow.firstSeq) return;
    const slot = seq & MASK;
    if (flow.remaining[slot]! <= 0) return;
    flow.deliveries += 1;
    flow.lastDeliveryUs = nowUs;
    this.hist.record(nowUs - this.tsOut[0]!);
    if (--flow.remaining[slot]! === 0) {
      flow.inflight.delete(seq);
      flow.onComplete(seq);
    }
  }

  closed(conn: LiteSocket, reason: string): void {
    const failed = this.handshakeFailed.get(conn);
    if (failed) {
      this.handshakeFailed.delete(conn);
      failed(reason);
    } else {
      this.dropped += 1;
    }
  }

  /** The publisher set up by `init`. */
  pub(): RespPublisher {
    if (!this.publisher) throw new Error('loadgen: init first');
    return this.publisher;
  }

  private need(): TargetSpec {
    if (!this.target) throw new Error('loadgen: init first');
    return this.target;
  }
}

function cpuPercent(cpu0: NodeJS.CpuUsage, t0: number): number {
  const d = process.cpuUsage(cpu0);
  return ((d.user + d.system) / 1000 / Math.max(1, performance.now() - t0)) * 100;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

const gen = new LoadGenerator();
const storm = new StormPool(() => gen.pub());
type Command = { id: number; cmd: string; args?: any };
const handlers: Record<string, (args: any) => unknown> = {
  init: (a) => gen.init(a),
  connect: (a) => gen.connect(a),
  closeAll: () => gen.closeAll(),
  fanout: (a) => gen.fanout(a),
  targeted: (a) => gen.targeted(a),
  rate: (a) => gen.rate(a),
  status: () => ({ live: gen.live(), dropped: gen.dropped }),
  stormConnect: (a) => storm.connect(a),
  stormPrime: (a) => storm.prime(a),
  stormWaitClosed: (a) => storm.waitClosed(a),
  stormMiss: (a) => storm.miss(a),
  stormReconnect: (a) => storm.reconnect(a),
  stormClose: () => storm.closeAll(),
};

process.on('message', (m: Command) => {
  const handler = handlers[m.cmd];
  Promise.resolve()
    .then(() => {
      if (!handler) throw new Error(`unknown command ${m.cmd}`);
      return handler(m.args);
    })
    .then((result) => process.send!({ id: m.id, ok: true, result }), (err: Error) => process.send!({ id: m.id, ok: false, error: err.message }));
});
process.on('disconnect', () => process.exit(0));
