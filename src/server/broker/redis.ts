/**
 * The Redis broker: several gateway instances behind a load balancer behave as one, and every
 * stream keeps its recent history in a Redis Stream.
 *
 * History on (WSS_HISTORY_SIZE > 0): publications go to Redis in calls of a Lua script
 * (scripts.ts, gathered by publish-batch.ts) that assigns each its offset, appends it, and
 * PUBLISHes the call's envelopes as one message on the cluster channel `<REDIS_PREFIX>bus`; every
 * instance, the origin included, delivers from that channel, so one stream reaches every instance
 * in offset order (StreamOrder fills any gap from history). History off: the origin delivers at
 * once and PUBLISHes a plain envelope the others deliver (the fast path, as before).
 *
 * While Redis is down (or too slow: REDIS_MAX_PENDING_PUBLISHES replies outstanding) a publication
 * is delivered here at once and kept in the outage buffer; when Redis is back the buffer is
 * replayed in order, marked "delivered at origin" so the origin skips its copy, and enters history
 * then. A replay whose first attempt did reach Redis is recognised by its id and not appended twice.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import type { RedisLink } from '../redis/link.js';
import { ThrottledLog } from '../redis/throttled-log.js';
import {
  isOwnEcho, streamOf, withPosition,
  type Broker, type BrokerStatus, type MembershipFn, type BrokerStatusListener, type DeliverFn, type HistoryEntry, type HistoryRead, type IngestClaim,
  type OutageStats, type Publication, type PublishRequest, type StreamPosition,
} from './broker.js';
import { decodeBusMessage, encodeEnvelope, headerPrefix, type DecodedEnvelope } from './codec.js';
import { newEpoch, type HistorySettings } from './history-settings.js';
import { OutageBuffer, type Buffered } from './outage-buffer.js';
import { RecentSet } from './recent-set.js';
import { PublishBatch, type PublishReply, type RunScript } from './publish-batch.js';
import { CLAIM_SCRIPT, HISTORY_SCRIPT, LOST_SCRIPT, PUBLISH_SCRIPT } from './scripts.js';
import { StreamOrder } from './stream-order.js';

export interface RedisBrokerOptions {
  instanceId: string;
  /** `<REDIS_PREFIX>`: the cluster channel is `<prefix>bus`, history keys `<prefix>h:{<stream>}:m|s`. */
  prefix: string;
  /** REDIS_MAX_PENDING_PUBLISHES, default 10 000. */
  maxPendingPublishes: number;
  history: HistorySettings;
  /** WSS_OUTAGE_BUFFER, default 10 000. */
  outageBuffer: number;
  /** How long a legacy-channel claim is remembered (see ingress/legacy-claims.ts). */
  claimTtlMs: number;
  log: Logger;
}

type HistoryReply = [number, string, Array<[string, string[]]>, number, number];

/** The scripts, registered on the publisher connection with ioredis `defineCommand` (EVALSHA, EVAL on NOSCRIPT). */
interface ScriptCommands {
  /** Key count first (it varies with the batch), then keys and arguments. */
  porticoPublish(...args: Array<string | number>): ReturnType<RunScript>;
  porticoHistory(...args: Array<string | number>): Promise<HistoryReply>;
  porticoClaim(key: string, occurrence: number, ttlMs: number): Promise<number>;
  porticoMarkLost(meta: string): Promise<number>;
}

const REPLAY_BATCH = 200;
/**
 * Pause before replaying again when Redis is connected but refused a publication (maxmemory
 * reached, a script error): retrying at once would spin against it.
 */
const REPLAY_RETRY_MS = 1000;
/** Before replaying, wait up to this long for the instances active before the outage to be subscribed again. */
const REPLAY_WAIT_MS = 5000;
/** How often the cluster channel's subscribers are counted while nothing is kept. */
const SUBSCRIBER_COUNT_MS = 1000;
/** An instance (process nonce) heard from within this long counts as active. */
const PEER_ACTIVE_MS = 5 * 60_000;
/**
 * A publication not back from Redis after this long is delivered to this instance's clients
 * anyway (Redis hangs; detecting that takes up to two REDIS_LIVENESS_MS); its copy coming back
 * later is then skipped here.
 */
export const LOCAL_FALLBACK_MS = 1000;

interface InFlight { request: PublishRequest; sentAt: number; deliveredHere: boolean }

export class RedisBroker implements Broker {
  private deliver: DeliverFn | null = null;
  private hasMembers: MembershipFn = () => true;
  private pending = 0;
  private seq = 0;
  /** Distinguishes this process from another instance misconfigured with the same instance id. */
  private readonly nonce = randomBytes(8).toString('hex');
  private duplicateIdWarned = false;
  private readonly warnings: ThrottledLog;
  private readonly channel: string;
  private readonly buffer: OutageBuffer;
  private readonly order: StreamOrder;
  /** History-on publications sent to Redis and not yet seen coming back, by sequence number (oldest first). */
  private readonly inFlight = new Map<number, InFlight>();
  /** Every in-flight publication was delivered here already (spares a walk of `inFlight` per publish during a burst). */
  private inFlightAllHere = true;
  /**
   * Own broadcasts (seq → sent at) whose copy has not come back through the subscriber yet:
   * while there are any, the outbox waits a moment for them (expectingOwnBroadcasts). Their
   * replies are no sign: Redis may answer the publisher before the subscriber's copy is read.
   * Room publications are not counted: they reach a few connections, so waiting for them batches
   * little and delays every other write by up to the hold.
   */
  private readonly echoesDue = new Map<number, number>();
  /** Claims of legacy messages this instance delivered itself while Redis hung (their copy from the winner is skipped). */
  private readonly claimsDeliveredHere = new RecentSet<string>();
  /** Claims whose copy (from whichever instance won) arrived here recently. */
  private readonly claimsReceived = new RecentSet<string>();
  /** Sequence numbers delivered here by the fallback whose reply came before their copy did. */
  private readonly copiesToSkip = new RecentSet<number>();
  private fallback: NodeJS.Timeout | null = null;
  private replaying = false;
  private replayRetry: NodeJS.Timeout | null = null;
  /** Processes heard on the cluster channel (nonce -> last time), to know how many should be subscribed. */
  private readonly peers = new Map<string, number>();
  private sweep: NodeJS.Timeout | null = null;
  private subscriberCount: NodeJS.Timeout | null = null;
  /** Connections subscribed to the cluster channel when last counted in calm times (see countSubscribers). */
  private subscribersBefore = 0;
  /**
   * Streams with a publication the outage buffer had to drop: it never enters history, so their
   * history no longer tells the whole story. Once the buffer is replayed they are marked (see
   * LOST_SCRIPT), so a client recovering from before that point is told recovered:false instead
   * of a silent gap.
   */
  private readonly lostStreams = new Set<string>();
  private readonly batch: PublishBatch;

  constructor(private readonly link: RedisLink, private readonly opts: RedisBrokerOptions) {
    this.warnings = new ThrottledLog(opts.log);
    this.channel = `${opts.prefix}bus`;
    this.buffer = new OutageBuffer(opts.outageBuffer, opts.log);
    this.order = new StreamOrder((entry) => this.alreadyHere(entry), (s, since, limit) => this.history(s, since, limit), (p) => this.deliverLocally(p), opts.history.size, opts.log);
    const client = link.publisher.client;
    client.defineCommand('porticoPublish', { lua: PUBLISH_SCRIPT });
    client.defineCommand('porticoHistory', { numberOfKeys: 2, lua: HISTORY_SCRIPT });
    client.defineCommand('porticoClaim', { numberOfKeys: 1, lua: CLAIM_SCRIPT });
    client.defineCommand('porticoMarkLost', { numberOfKeys: 1, lua: LOST_SCRIPT });
    this.batch = new PublishBatch(
      (keys, args) => this.scripts.porticoPublish(keys.length, ...keys, ...args),
      () => {
        const { size, ttlMs, metaTtlMs } = this.opts.history;
        return [this.channel, size, ttlMs, metaTtlMs, newEpoch(), this.opts.claimTtlMs, this.opts.instanceId];
      },
    );
    link.onStatusChange((from, to) => {
      if (to === 'disconnected') {
        this.abandonInFlight();
        this.echoesDue.clear();
      }
      if (to !== 'connected') return;
      void this.replay();
      // What the other instances published while this one's subscriber was away.
      if (from === 'disconnected' && this.historyEnabled) this.order.catchUp((stream) => this.hasMembers(stream));
    });
  }

  get status(): BrokerStatus {
    return this.link.status;
  }

  get historyEnabled(): boolean {
    return this.opts.history.size > 0;
  }

  /** Connections on the cluster channel at the last count in calm times: a replay waits for as many. */
  get knownSubscribers(): number {
    return this.subscribersBefore;
  }

  /** Publishes sent to Redis and not yet acknowledged (bounded by `maxPendingPublishes`). */
  get pendingPublishes(): number {
    return this.pending;
  }

  outage(): OutageStats {
    return { buffered: this.buffer.size, dropped: this.buffer.dropped, replayed: this.buffer.replayed };
  }

  /**
   * With history, a broadcast reaches this instance's clients when Redis sends it back, one
   * round trip after the publish script was sent (without history it is delivered at once).
   */
  expectingOwnBroadcasts(): boolean {
    if (this.echoesDue.size === 0) return false;
    // An echo the subscriber missed (it was reconnecting) must not hold every later flush.
    const stale = Date.now() - LOCAL_FALLBACK_MS;
    for (const [seq, sentAt] of this.echoesDue) {
      if (sentAt >= stale) break;
      this.echoesDue.delete(seq);
    }
    return this.echoesDue.size > 0 && this.link.status === 'connected';
  }

  async start(deliver: DeliverFn, hasMembers: MembershipFn = () => true): Promise<void> {
    this.deliver = deliver;
    this.hasMembers = hasMembers;
    await this.link.subscriber.subscribe(this.channel, this.receive);
    await this.link.open();
    this.sweep = setInterval(() => this.order.sweep(this.opts.history.metaTtlMs), Math.min(this.opts.history.metaTtlMs, 60_000));
    this.sweep.unref();
    this.fallback = setInterval(() => this.deliverOverdue(), LOCAL_FALLBACK_MS / 4);
    this.fallback.unref();
    void this.countSubscribers();
    this.subscriberCount = setInterval(() => void this.countSubscribers(), SUBSCRIBER_COUNT_MS);
    this.subscriberCount.unref();
  }

  /**
   * In calm times (nothing kept, no replay), remember how many connections listen on the cluster
   * channel: instances that never published are subscribers too, and a replay should wait for them.
   */
  private async countSubscribers(): Promise<void> {
    if (this.link.status !== 'connected' || this.buffer.size > 0 || this.replaying) return;
    const reply = await this.client.call('PUBSUB', 'NUMSUB', this.channel).catch(() => null) as [string, number] | null;
    if (reply !== null && this.buffer.size === 0 && !this.replaying) this.subscribersBefore = Number(reply[1]);
  }

  publish(request: PublishRequest): Promise<StreamPosition | null> {
    const seq = ++this.seq;
    const sendable = this.link.status === 'connected' && this.buffer.size === 0 && !this.replaying && this.pending < this.opts.maxPendingPublishes;
    if (!this.historyEnabled) {
      this.deliverLocally(this.publication(request));
      if (request.claim) return Promise.resolve(null); // every instance delivers its own copy
      if (!sendable) return this.keep({ request, seq });
      this.pending += 1;
      const envelope = encodeEnvelope(this.publication(request), { nonce: this.nonce, seq, deliveredAtOrigin: true });
      this.client.publish(this.channel, envelope).then(
        () => { this.pending -= 1; },
        (err: Error) => { this.pending -= 1; this.warnings.warn({ err: err.message }, 'message not sent to other instances'); },
      );
      return Promise.resolve(null);
    }
    if (!sendable) {
      // A legacy message (or spool file) another instance already entered into history reached
      // this instance's clients from there: its own copy, read later, is neither delivered again
      // nor kept for a replay. (While a replay runs, new publications are not sendable.)
      if (this.copyArrived(request)) return Promise.resolve(null);
      // Publications still waiting for Redis were accepted first: they reach this instance's
      // clients before this one does (its copy coming back later is skipped).
      if (!this.inFlightAllHere) {
        this.deliverOverdue(Number.POSITIVE_INFINITY);
        this.inFlightAllHere = true;
      }
      this.deliverHere(request);
      return this.keep({ request, seq });
    }
    this.pending += 1;
    const sentAt = Date.now();
    this.inFlight.set(seq, { request, sentAt, deliveredHere: false });
    if (request.target.kind === 'all') this.echoesDue.set(seq, sentAt);
    this.inFlightAllHere = false;
    return this.runPublish(request, seq, false).then(
      (reply) => {
        this.settled();
        const entry = this.takeInFlight(seq);
        if (reply === null) {
          this.echoesDue.delete(seq); // not appended (another instance won the claim): no copy comes back
          return null;
        }
        const stream = streamOf(request.target);
        const position = { offset: Number(reply[0]), epoch: String(reply[1]) };
        if (entry?.deliveredHere && this.link.status === 'connected') this.skipCopyOf(seq);
        // Appended, but our own subscriber may have missed the PUBLISH: deliver it here now.
        if (entry && this.link.status !== 'connected') {
          const positioned = { ...this.publication(request), frame: withPosition(request.frame, { stream, ...position }), position: { stream, ...position } };
          if (entry.deliveredHere) this.order.advance(positioned);
          else this.order.accept(positioned);
        }
        return position;
      },
      (err: Error) => {
        this.settled();
        // Unknown whether Redis ran it: deliver here unless it already came back, and replay it
        // later under the same id (the script recognises it if it did run).
        this.echoesDue.delete(seq);
        const entry = this.takeInFlight(seq);
        if (!entry) return null;
        this.warnings.warn({ err: err.message }, 'publish failed; kept for replay when redis is back');
        this.fail(seq, entry);
        // Redis answered with an error while connected (full, script error): no reconnect will
        // start the replay, and until it runs every later publication stays on this instance.
        if (this.link.status === 'connected' && this.pending === 0) this.replayLater();
        return null;
      },
    );
  }

  /**
   * Redis went away with publications in flight: deliver them here now, in the order they were
   * sent (before anything published after), and keep them for replay. ioredis rejects them only
   * at its first reconnect attempt, later than publications made meanwhile.
   */
  private abandonInFlight(): void {
    for (const [seq, entry] of [...this.inFlight]) {
      this.inFlight.delete(seq);
      this.fail(seq, entry);
    }
  }

  /** Unknown whether Redis ran it: deliver it here (once) and keep it for replay under the same id. */
  private fail(seq: number, entry: InFlight): void {
    const { request } = entry;
    // A legacy message another instance already published reached this one: nothing to do.
    if (this.copyArrived(request)) return;
    if (!entry.deliveredHere) this.deliverHere(request);
    // The script may still run (a frozen Redis reads it on thaw): its copy is not delivered again here.
    this.skipCopyOf(seq);
    // A legacy message is kept too: the instances that had it replay it under the same claim, so
    // it enters history once and reaches the instances that never received it.
    this.bufferOrForget({ request, seq });
  }

  /** A publish got its reply: when the backlog is gone, send what was kept meanwhile. */
  private settled(): void {
    this.pending -= 1;
    if (this.pending === 0 && this.buffer.size > 0 && this.link.status === 'connected') void this.replay();
  }

  private takeInFlight(seq: number): InFlight | undefined {
    const entry = this.inFlight.get(seq);
    this.inFlight.delete(seq);
    return entry;
  }

  /** Deliver here, in order, what Redis has not answered since `due` (by default LOCAL_FALLBACK_MS ago, see there). */
  private deliverOverdue(due = Date.now() - LOCAL_FALLBACK_MS): void {
    for (const [seq, entry] of this.inFlight) {
      if (entry.sentAt > due) break;
      if (entry.deliveredHere || this.copyArrived(entry.request)) continue;
      entry.deliveredHere = true;
      this.skipCopyOf(seq);
      this.deliverHere(entry.request);
    }
  }

  /** A publication read from history (gap fill, catch-up) this instance's clients already got. */
  private alreadyHere(entry: HistoryEntry): boolean {
    if (entry.claim !== undefined && this.claimsDeliveredHere.has(entry.claim)) return true;
    if (entry.origin !== this.opts.instanceId) return false;
    if (isOwnEcho(entry.origin, entry.deliveredAtOrigin ?? false, this.opts.instanceId)) return true;
    const [nonce, seq] = (entry.id ?? '').split(':');
    return nonce === this.nonce && this.copiesToSkip.has(Number(seq));
  }

  private skipCopyOf(seq: number): void {
    this.copiesToSkip.add(seq);
  }

  /** A legacy message another instance entered into history, whose copy reached this instance's clients already. */
  private copyArrived(request: PublishRequest): boolean {
    return request.claim !== undefined && this.claimsReceived.has(claimId(request.claim));
  }

  /** Deliver to this instance's clients now, without waiting for Redis; its copy coming back is skipped. */
  private deliverHere(request: PublishRequest): void {
    if (request.claim) this.claimsDeliveredHere.add(claimId(request.claim));
    // Behind its stream's publications held for a gap fill: they were accepted before it.
    this.order.deliverNow(this.publication(request));
  }

  async claim(claim: IngestClaim): Promise<boolean | null> {
    if (!this.historyEnabled || this.link.status !== 'connected') return null;
    try {
      return (await this.scripts.porticoClaim(this.claimKey(claim.key), claim.occurrence, this.opts.claimTtlMs)) === 1;
    } catch {
      return null;
    }
  }

  async history(stream: string, since: number, limit: number): Promise<HistoryRead> {
    if (!this.historyEnabled) throw new Error('history is off (WSS_HISTORY_SIZE=0)');
    if (this.link.status !== 'connected') throw new Error('redis is not connected');
    const [top, epoch, raw, lostAfter, metaTtl] = await this.scripts.porticoHistory(this.metaKey(stream), this.streamKey(stream), since, Math.max(0, limit), newEpoch(), this.opts.history.metaTtlMs);
    const read: HistoryRead = { top: { offset: Number(top), epoch: String(epoch) }, publications: raw.map(toEntry) };
    if (Number(lostAfter) > 0) read.lostAfter = Number(lostAfter);
    if (Number(metaTtl) > 0) read.epochKeptMs = Number(metaTtl);
    this.order.baseline(stream, read.top);
    return read;
  }

  onStatusChange(listener: BrokerStatusListener): void {
    this.link.onStatusChange(listener);
  }

  async close(): Promise<void> {
    if (this.sweep) clearInterval(this.sweep);
    if (this.fallback) clearInterval(this.fallback);
    if (this.subscriberCount) clearInterval(this.subscriberCount);
    if (this.replayRetry) clearTimeout(this.replayRetry);
    await this.link.subscriber.unsubscribe(this.channel);
    await this.link.close();
    this.warnings.flush();
    this.deliver = null;
  }

  private get client(): Redis {
    return this.link.publisher.client;
  }

  private get scripts(): ScriptCommands {
    return this.client as unknown as ScriptCommands;
  }

  private metaKey(stream: string): string { return `${this.opts.prefix}h:{${stream}}:m`; }
  private streamKey(stream: string): string { return `${this.opts.prefix}h:{${stream}}:s`; }
  private claimKey(key: string): string { return `${this.opts.prefix}claim:${key}`; }

  private publication(request: PublishRequest): Publication {
    const { target, frame, exclude, ingressAt, type } = request;
    return { origin: this.opts.instanceId, target, frame, exclude, ingressAt, type };
  }

  private runPublish(request: PublishRequest, seq: number, replay: boolean): Promise<PublishReply> {
    const stream = streamOf(request.target);
    const prefix = headerPrefix({ ...this.publication(request), stream }, {
      nonce: this.nonce, seq, deliveredAtOrigin: replay, ...(request.claim ? { claim: claimId(request.claim) } : {}),
    });
    const claim = request.claim;
    const meta = this.metaKey(stream);
    return this.batch.send({
      keys: [meta, this.streamKey(stream), claim ? this.claimKey(claim.key) : meta],
      fields: [
        prefix, request.frame, JSON.stringify(stream), claim ? claim.occurrence : '', `${this.nonce}:${seq}`,
        request.exclude ?? '', replay ? '1' : '', replay ? '1' : '', claim ? claimId(claim) : '',
      ],
    });
  }

  private keep(item: Buffered): Promise<null> {
    this.bufferOrForget(item);
    return Promise.resolve(null);
  }

  private bufferOrForget(item: Buffered): void {
    if (!this.buffer.push(item) && this.historyEnabled) this.lostStreams.add(streamOf(item.request.target));
  }

  /** Mark every stream that lost a publication (see `lostStreams`). */
  private async markLostStreams(): Promise<void> {
    if (this.lostStreams.size === 0) return;
    const streams = [...this.lostStreams];
    this.lostStreams.clear();
    try {
      await Promise.all(streams.map((s) => this.scripts.porticoMarkLost(this.metaKey(s))));
      this.opts.log.warn({ streams: streams.length }, 'streams marked as having lost messages beyond WSS_OUTAGE_BUFFER; clients recovering from before are told to resync');
    } catch (err) {
      for (const s of streams) this.lostStreams.add(s);
      this.warnings.warn({ err: (err as Error).message }, 'could not mark the streams that lost messages; retried when redis is back');
    }
  }

  /** Replay after REPLAY_RETRY_MS (once scheduled at a time). */
  private replayLater(): void {
    if (this.replayRetry !== null) return;
    this.replayRetry = setTimeout(() => {
      this.replayRetry = null;
      // With publications still in flight, the last one's reply starts the replay (settled), so order holds.
      if (this.buffer.size > 0 && this.link.status === 'connected' && this.pending === 0) void this.replay();
    }, REPLAY_RETRY_MS);
    this.replayRetry.unref();
  }

  /** Send the outage buffer in order, in batches; stop at the first failure (retried on the next reconnect). */
  private async replay(): Promise<void> {
    if (this.replaying || this.buffer.size === 0) return;
    this.replaying = true;
    const started = this.buffer.size;
    try {
      await this.awaitPeers();
      while (this.buffer.size > 0 && this.link.status === 'connected') {
        const batch = this.buffer.peek(REPLAY_BATCH);
        const results = await Promise.allSettled(batch.map((item) => this.replayOne(item)));
        const ok = results.findIndex((r) => r.status === 'rejected');
        this.buffer.remove(ok < 0 ? batch.length : ok);
        if (ok >= 0) {
          this.warnings.warn({ err: ((results[ok] as PromiseRejectedResult).reason as Error)?.message }, 'replay refused by redis; retried shortly');
          break;
        }
      }
    } finally {
      this.replaying = false;
    }
    const replayed = started - this.buffer.size;
    if (replayed > 0) this.opts.log.info({ replayed, left: this.buffer.size }, 'redis is back; messages kept during the outage sent to the other instances');
    if (this.buffer.size > 0 && this.link.status === 'connected') this.replayLater();
    else if (this.buffer.size === 0 && this.link.status === 'connected') await this.markLostStreams();
  }

  /**
   * Until as many processes are subscribed to the cluster channel as were heard from or counted
   * before the outage (or REPLAY_WAIT_MS passed): a replay published before another instance re-subscribed
   * reaches it only from history, which may be too short for a long outage.
   */
  private async awaitPeers(): Promise<void> {
    const since = Date.now() - PEER_ACTIVE_MS;
    for (const [nonce, seen] of this.peers) if (seen < since) this.peers.delete(nonce);
    const expected = Math.max(1, this.peers.size, this.subscribersBefore);
    const deadline = Date.now() + REPLAY_WAIT_MS;
    while (Date.now() < deadline && this.link.status === 'connected') {
      const reply = await this.client.call('PUBSUB', 'NUMSUB', this.channel).catch(() => null) as [string, number] | null;
      if (reply === null || Number(reply[1]) >= expected) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  private async replayOne({ request, seq }: Buffered): Promise<void> {
    if (this.historyEnabled) {
      await this.runPublish(request, seq, true);
      return;
    }
    await this.client.publish(this.channel, encodeEnvelope(this.publication(request), { nonce: this.nonce, seq, deliveredAtOrigin: true }));
  }

  /** Envelopes from the cluster channel, including this instance's own. */
  private readonly receive = (text: string): void => {
    const envelopes = decodeBusMessage(text);
    if (!envelopes) {
      this.warnings.warn({ channel: this.channel, bytes: text.length }, 'ignored a bus message this version cannot decode');
      return;
    }
    for (const decoded of envelopes) this.receiveOne(decoded);
  };

  private receiveOne(decoded: DecodedEnvelope): void {
    const { publication } = decoded;
    this.peers.set(decoded.nonce, Date.now());
    if (decoded.nonce === this.nonce) this.echoesDue.delete(decoded.seq);
    if (publication.origin === this.opts.instanceId) {
      if (decoded.nonce !== this.nonce) {
        if (!this.duplicateIdWarned) {
          this.duplicateIdWarned = true;
          this.opts.log.error({ instance: this.opts.instanceId }, 'another gateway uses this instance id (WSS_INSTANCE_ID); messages between the two are lost');
        }
        // A legacy message it won the claim for is everyone's (it excludes nobody); the rest is lost.
        if (decoded.claim === undefined) return;
      } else {
        const entry = this.takeInFlight(decoded.seq);
        if (entry?.deliveredHere || this.copiesToSkip.has(decoded.seq)) decoded.deliveredAtOrigin = true;
      }
    }
    if (decoded.claim !== undefined) {
      this.claimsReceived.add(decoded.claim);
      if (this.claimsDeliveredHere.has(decoded.claim)) {
        if (publication.position) this.order.advance(publication);
        return;
      }
    }
    if (isOwnEcho(publication.origin, decoded.deliveredAtOrigin, this.opts.instanceId)) {
      // Still advances the stream's position here, so a later gap fill does not deliver it again.
      if (publication.position) this.order.advance(publication);
      return;
    }
    if (publication.position) this.order.accept(publication);
    else this.deliverLocally(publication);
  }

  private deliverLocally(publication: Publication): void {
    try {
      this.deliver?.(publication);
    } catch (err) {
      this.warnings.warn({ err }, 'local delivery failed');
    }
  }
}

const claimId = (claim: IngestClaim): string => `${claim.key}:${claim.occurrence}`;

function toEntry([id, fields]: [string, string[]]): HistoryEntry {
  const entry: HistoryEntry = { offset: Number.parseInt(id, 10), frame: '' };
  for (let i = 0; i < fields.length; i += 2) {
    const value = fields[i + 1] ?? '';
    switch (fields[i]) {
      case 'd': entry.frame = value; break;
      case 'o': if (value) entry.origin = value; break;
      case 'x': if (value) entry.exclude = value; break;
      case 'l': entry.deliveredAtOrigin = value === '1'; break;
      case 'i': entry.id = value; break;
      case 'c': if (value) entry.claim = value; break;
    }
  }
  return entry;
}
