/**
 * The reconnect storm's clients, inside the load-generator process. Each client has its own
 * session (cookie), so it is in two streams: `broadcast` and its session room. It learns its
 * positions from one message per stream, loses its instance, and on reconnecting to the other
 * one sends `recover` right after the upgrade, as the browser client does. Stream messages are
 * checked in place (offset per stream: duplicate, gap); only the one `recovery_result` per
 * client is parsed as JSON.
 */
import { Redis } from 'ioredis';
import { sessionRoomId } from '../src/server/session.js';
import { Histogram, type LatencySummary } from './lib/histogram.js';
import { LiteSocket, type FrameSink } from './lib/lite-ws.js';
import { broadcastPayload, sessionPayload } from './lib/payload.js';
import type { RespPublisher } from './lib/resp-publisher.js';
import { emptyPositionRef, findStreamPosition, recoverFrame, streamIs } from './lib/stream-position.js';

const BROADCAST = Buffer.from('broadcast');
/** A stream's offset in Redis: field `o` of `<REDIS_PREFIX>h:{<stream>}:m` (src/server/broker/redis.ts, default prefix). */
const metaKey = (stream: string): string => `portico-ws:h:{${stream}}:m`;
/** Missed messages published before waiting for history to hold them (below REDIS_MAX_PENDING_PUBLISHES). */
const SLICE = 2000;
const RESULT = Buffer.from('"type":"recovery_result"');

interface Tracked { offset: number; epoch: string }

class StormClient {
  conn: LiteSocket | null = null;
  readonly sessionId: string;
  readonly sessionStream: Buffer;
  broadcast: Tracked | null = null;
  session: Tracked | null = null;
  // This connection's recovery.
  lastB = -1;
  lastS = -1;
  got = 0;
  gotB = 0;
  duplicates = 0;
  gaps = 0;
  answer: { recovered: boolean; missed: number } | null = null;
  answeredUs = 0;

  constructor(readonly index: number, runTag: string) {
    this.sessionId = `storm${runTag}${index.toString(36).padStart(4, '0')}`;
    this.sessionStream = Buffer.from(sessionRoomId(this.sessionId));
  }

  get primed(): boolean {
    return this.broadcast !== null && this.session !== null;
  }

  recoverText(): string {
    return recoverFrame({ broadcast: this.broadcast!, [this.sessionStream.toString()]: this.session! });
  }
}

export interface StormResult {
  clients: number;
  reconnected: number;
  reconnectFailures: string[];
  /** From the first reconnect until every handshake completed (or failed). */
  reconnectSeconds: number;
  answered: number;
  recovered: number;
  /** Clients whose answer was recovered:true and that got exactly the expected messages, once, without gaps. */
  complete: number;
  expectedPerClient: number;
  messages: number;
  /** Messages that never came, per stream kind (expected minus received, summed over clients). */
  missing: { broadcast: number; session: number };
  duplicates: number;
  gaps: number;
  missedReported: number;
  /** From the first reconnect to the last complete client; null when some never completed. */
  secondsToAll: number | null;
  perClientMs: LatencySummary;
  loadgenCpu: number;
}

export class StormPool implements FrameSink {
  private clients: StormClient[] = [];
  private witness: StormClient | null = null;
  private readonly ref = emptyPositionRef();
  private phase: 'prime' | 'recover' = 'prime';
  private expected = 0;
  private expectedB = 0;
  private readonly pendingOpen = new Map<LiteSocket, (reason: string | null) => void>();
  private t0Us = 0;
  private lastWitnessSeq = -1;
  private runTag = '';

  constructor(private readonly publisher: () => RespPublisher) {}

  /** Open `count` clients to `port` (and one witness to `witnessPort` that stays connected). */
  async connect(args: { port: number; witnessPort: number; count: number; concurrency: number; timeoutMs: number; runTag: string }): Promise<{ opened: number; failures: string[] }> {
    this.runTag = args.runTag;
    this.phase = 'prime';
    this.clients = Array.from({ length: args.count }, (_, i) => new StormClient(i, args.runTag));
    this.witness = new StormClient(args.count, args.runTag);
    const failures = await this.openAll([this.witness], args.witnessPort, 1, args.timeoutMs, false);
    failures.push(...(await this.openAll(this.clients, args.port, args.concurrency, args.timeoutMs, false)));
    return { opened: this.clients.filter((c) => c.conn && !c.conn.closed).length, failures: failures.slice(0, 5) };
  }

  /** One broadcast and one message per session, so every client knows both positions. */
  async prime(args: { timeoutMs: number }): Promise<{ primed: number }> {
    const pub = this.publisher();
    pub.publish('notifications', broadcastPayload(0, 0));
    for (const c of [...this.clients, this.witness!]) pub.publish('notifications', sessionPayload(0, 0, c.sessionId));
    await until(() => this.clients.every((c) => c.primed), args.timeoutMs);
    return { primed: this.clients.filter((c) => c.primed).length };
  }

  /** Wait until every client saw its connection close (the instance was killed). */
  async waitClosed(args: { timeoutMs: number }): Promise<{ closed: number }> {
    await until(() => this.clients.every((c) => !c.conn || c.conn.closed), args.timeoutMs);
    return { closed: this.clients.filter((c) => !c.conn || c.conn.closed).length };
  }

  /**
   * Publish what the clients miss while away (`broadcasts` to all, `perSession` to each) and wait
   * until history holds all of it (the survivor appends streams independently, so one stream
   * being done says nothing about the others). Paced: a slice of `SLICE` messages, then wait for
   * history to hold them, so the scenario's precondition (every missed message is in history)
   * holds; `burst` publishes everything at once instead, like a PHP job flooding the channel.
   * Then one message to the witness's session: its copy arriving says the survivor delivers live.
   */
  async miss(args: { broadcasts: number; perSession: number; timeoutMs: number; redisPort: number; burst?: boolean }): Promise<{ witnessSeen: boolean; historyComplete: boolean; publishSeconds: number }> {
    const pub = this.publisher();
    const redis = new Redis(args.redisPort, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    const t0 = performance.now();
    let seq = 1;
    let historyComplete = true;
    try {
      const want = new Map<string, number>();
      const flush = async (): Promise<void> => {
        if (args.burst) return;
        historyComplete &&= await historyHolds(redis, want, args.timeoutMs);
        want.clear();
      };
      for (let round = 1; round <= args.perSession; round++) {
        for (const c of this.clients) {
          pub.publish('notifications', sessionPayload(seq++, 0, c.sessionId));
          want.set(c.sessionStream.toString(), c.session!.offset + round);
          if (want.size >= SLICE) await flush();
        }
      }
      for (let i = 0; i < args.broadcasts; i++) pub.publish('notifications', broadcastPayload(seq++, 0));
      await flush();
      want.set('broadcast', this.clients[0]!.broadcast!.offset + args.broadcasts);
      for (const c of this.clients) want.set(c.sessionStream.toString(), c.session!.offset + args.perSession);
      historyComplete &&= await historyHolds(redis, want, args.timeoutMs);
    } finally {
      redis.disconnect();
    }
    const publishSeconds = (performance.now() - t0) / 1000;
    this.lastWitnessSeq = -1;
    const final = seq;
    pub.publish('notifications', sessionPayload(final, 0, this.witness!.sessionId));
    this.expected = args.broadcasts + args.perSession;
    this.expectedB = args.broadcasts;
    await until(() => this.lastWitnessSeq === final, args.timeoutMs);
    return { witnessSeen: this.lastWitnessSeq === final, historyComplete, publishSeconds };
  }

  /** Every client reconnects to `port` (`concurrency` handshakes at a time) and recovers. */
  async reconnect(args: { port: number; concurrency: number; timeoutMs: number }): Promise<StormResult> {
    this.phase = 'recover';
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    this.t0Us = t0 * 1000;
    const failures = await this.openAll(this.clients, args.port, args.concurrency, args.timeoutMs, true);
    const reconnectSeconds = (performance.now() - t0) / 1000;
    await until(() => this.clients.every((c) => c.answer !== null || !c.conn || c.conn.closed), args.timeoutMs);
    return { ...this.result(failures, cpu0, t0), reconnectSeconds };
  }

  closeAll(): void {
    for (const c of [...this.clients, ...(this.witness ? [this.witness] : [])]) c.conn?.close();
    this.clients = [];
    this.witness = null;
  }

  // ---- frames ----

  text(conn: LiteSocket, buf: Buffer, start: number, end: number, nowUs: number): void {
    const client = conn.index < this.clients.length ? this.clients[conn.index] : this.witness;
    if (!client || client.conn !== conn) return;
    const head = buf.indexOf(RESULT, start);
    if (head >= 0 && head < end && head - start < 64) {
      const parsed = JSON.parse(buf.toString('utf8', start, end)) as { recovered?: unknown; missed?: unknown };
      client.answer = { recovered: parsed.recovered === true, missed: typeof parsed.missed === 'number' ? parsed.missed : 0 };
      client.answeredUs = nowUs;
      return;
    }
    if (!findStreamPosition(buf, start, end, this.ref)) return;
    const isBroadcast = streamIs(buf, this.ref, BROADCAST);
    if (!isBroadcast && !streamIs(buf, this.ref, client.sessionStream)) return;
    if (client === this.witness) this.noteWitness(buf, start, end, isBroadcast);
    if (this.phase === 'prime' || client === this.witness) {
      const tracked = { offset: this.ref.offset, epoch: buf.toString('latin1', this.ref.epochStart, this.ref.epochEnd) };
      if (isBroadcast) client.broadcast = tracked;
      else client.session = tracked;
      return;
    }
    const last = isBroadcast ? client.lastB : client.lastS;
    if (this.ref.offset <= last) client.duplicates += 1;
    else if (this.ref.offset !== last + 1) client.gaps += 1;
    if (isBroadcast) client.lastB = Math.max(last, this.ref.offset);
    else client.lastS = Math.max(last, this.ref.offset);
    client.got += 1;
    if (isBroadcast) client.gotB += 1;
  }

  closed(conn: LiteSocket, reason: string): void {
    this.pendingOpen.get(conn)?.(reason);
  }

  private noteWitness(buf: Buffer, start: number, end: number, isBroadcast: boolean): void {
    if (isBroadcast) return;
    const at = buf.indexOf('"bench":[', start);
    if (at < 0 || at >= end) return;
    let i = at + 9;
    let seq = 0;
    for (let c = buf[i]!; c >= 48 && c <= 57; c = buf[++i]!) seq = seq * 10 + (c - 48);
    this.lastWitnessSeq = seq;
  }

  /** Open a connection per client, `concurrency` at a time; with `recover`, send it right after the upgrade. */
  private openAll(clients: StormClient[], port: number, concurrency: number, timeoutMs: number, recover: boolean): Promise<string[]> {
    const failures: string[] = [];
    let next = 0;
    let settled = 0;
    return new Promise((resolve) => {
      if (clients.length === 0) return resolve(failures);
      const startOne = (): void => {
        const client = clients[next++]!;
        if (recover) {
          client.lastB = client.broadcast!.offset;
          client.lastS = client.session!.offset;
          client.got = client.gotB = client.duplicates = client.gaps = 0;
          client.answer = null;
        }
        const conn = LiteSocket.open({ port, path: '/wss', dialect: 'ws', index: client.index, sink: this, cookie: `bookingfrontendsession=${client.sessionId}` });
        client.conn = conn;
        if (recover) {
          const text = client.recoverText();
          conn.onUpgraded = () => conn.send(text);
        }
        const timer = setTimeout(() => conn.fail('handshake timeout'), timeoutMs);
        const done = (reason: string | null): void => {
          clearTimeout(timer);
          this.pendingOpen.delete(conn);
          conn.onReady = null;
          if (reason !== null) failures.push(reason);
          settled += 1;
          if (next < clients.length) startOne();
          else if (settled === clients.length) resolve(failures);
        };
        this.pendingOpen.set(conn, done);
        conn.onReady = () => done(null);
      };
      for (let i = 0; i < Math.min(concurrency, clients.length); i++) startOne();
    });
  }

  private result(failures: string[], cpu0: NodeJS.CpuUsage, t0: number): Omit<StormResult, 'reconnectSeconds'> {
    const hist = new Histogram();
    let answered = 0, recovered = 0, complete = 0, messages = 0, duplicates = 0, gaps = 0, missedReported = 0;
    let lastUs = 0;
    const missing = { broadcast: 0, session: 0 };
    for (const c of this.clients) {
      messages += c.got;
      missing.broadcast += Math.max(0, this.expectedB - c.gotB);
      missing.session += Math.max(0, this.expected - this.expectedB - (c.got - c.gotB));
      duplicates += c.duplicates;
      gaps += c.gaps;
      if (!c.answer) continue;
      answered += 1;
      missedReported += c.answer.missed;
      if (c.answer.recovered) recovered += 1;
      if (c.answer.recovered && c.got === this.expected && c.duplicates === 0 && c.gaps === 0) {
        complete += 1;
        hist.record(c.answeredUs - this.t0Us);
        lastUs = Math.max(lastUs, c.answeredUs);
      }
    }
    const d = process.cpuUsage(cpu0);
    return {
      clients: this.clients.length, reconnected: this.clients.length - failures.length, reconnectFailures: failures.slice(0, 5),
      answered, recovered, complete, expectedPerClient: this.expected, messages, missing, duplicates, gaps, missedReported,
      secondsToAll: complete === this.clients.length ? (lastUs - this.t0Us) / 1e6 : null,
      perClientMs: hist.summary(),
      loadgenCpu: ((d.user + d.system) / 1000 / Math.max(1, performance.now() - t0)) * 100,
    };
  }
}

/** Poll until each stream's offset in Redis reached `want` (stream -> offset); false on timeout. */
async function historyHolds(redis: Redis, want: Map<string, number>, timeoutMs: number): Promise<boolean> {
  const left = new Map(want);
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const pipeline = redis.pipeline();
    for (const stream of left.keys()) pipeline.hget(metaKey(stream), 'o');
    const offsets = (await pipeline.exec()) ?? [];
    let i = 0;
    for (const [stream, offset] of [...left]) if (Number(offsets[i++]?.[1] ?? 0) >= offset) left.delete(stream);
    if (left.size === 0) return true;
    if (performance.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}
