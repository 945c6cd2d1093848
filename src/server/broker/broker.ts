/**
 * The broker carries publications between gateway instances and keeps each stream's recent
 * history (in the spirit of centrifuge's Broker). A stream is a room (session, user, entity, any
 * room id) or `broadcast` (every connection). A publication of a history-enabled stream gets a
 * position `{offset, epoch}`: the offset grows by one per publication in the stream, the epoch
 * changes whenever the stream's history was lost, so a client can tell "nothing missed" from
 * "cannot know". The memory broker is the single-node default; the Redis broker spans instances.
 */

/** Where a publication goes: every connection (stream `broadcast`), or the members of one room. */
export type BrokerTarget = { kind: 'all' } | { kind: 'room'; roomId: string };

export interface StreamPosition { offset: number; epoch: string }
export interface StreamPoint extends StreamPosition { stream: string }

/** What a gateway hands the broker: the frame serialised once, without a position. */
export interface PublishRequest {
  target: BrokerTarget;
  /** The complete JSON object text as browsers get it (the broker adds `stream_position`). */
  frame: string;
  /** Connection id on the origin instance that must not receive it (the sender). */
  exclude?: string;
  /** ms since epoch when the message entered the gateway, for delivery-latency metrics. */
  ingressAt?: number;
  /** The frame's `type`, for metrics. */
  type?: string;
  /**
   * Set for a message every instance received itself (a legacy Redis channel): all of them offer
   * it, exactly one appends and publishes it (see legacy-claims.ts). Without history each
   * instance just delivers its own copy.
   */
  claim?: IngestClaim;
}

/** "The n-th time this instance saw this payload within the claim window." */
export interface IngestClaim { key: string; occurrence: number }

/** What the broker hands the gateway to write to its local connections. */
export interface Publication {
  origin: string;
  target: BrokerTarget;
  /** Exactly what goes on the wire (with `stream_position` when it has a position). */
  frame: string;
  exclude?: string;
  ingressAt?: number;
  type?: string;
  position?: StreamPoint;
}

export interface HistoryEntry {
  offset: number;
  frame: string;
  /** Who published it (and its id there), whom it excluded, whether its origin delivered it itself, its legacy claim (Redis only). */
  origin?: string;
  id?: string;
  claim?: string;
  exclude?: string;
  deliveredAtOrigin?: boolean;
}

/** A stream's current top position and the kept publications after `since` (oldest first). */
export interface HistoryRead {
  top: StreamPosition;
  publications: HistoryEntry[];
  /**
   * Publications were lost from this stream after this offset (the outage buffer overflowed): a
   * client at an older position may have missed them and cannot be told it recovered.
   */
  lostAfter?: number;
  /**
   * How long after the read the top's epoch stands at least: a stream's position outlives its
   * last publication by WSS_HISTORY_META_TTL_S, and each publication renews that (absent: unknown).
   */
  epochKeptMs?: number;
}

export type BrokerStatus = 'disabled' | 'connecting' | 'connected' | 'disconnected';
export type DeliverFn = (publication: Publication) => void;
/** Whether a stream has members on this instance (worth catching up on after an outage). */
export type MembershipFn = (stream: string) => boolean;
export type BrokerStatusListener = (from: BrokerStatus, to: BrokerStatus) => void;

/** Messages an instance accepted while it could not reach the other instances (WSS_OUTAGE_BUFFER). */
export interface OutageStats { buffered: number; dropped: number; replayed: number }

export interface Broker {
  /** 'disabled' for the memory broker (no external system involved). */
  readonly status: BrokerStatus;
  /** False when WSS_HISTORY_SIZE is 0: no positions, no recovery. */
  readonly historyEnabled: boolean;
  /** Begin delivering: publications of this and other instances go to `deliver`, in stream order. */
  start(deliver: DeliverFn, hasMembers?: MembershipFn): Promise<void>;
  /**
   * Publish to every instance (this one included) once. Resolves with the position when the
   * publication entered history, null when it has none (history off, Redis down, a claim another
   * instance won). Never rejects; when the other instances cannot be reached the publication is
   * delivered here at once and kept for them (bounded).
   */
  publish(request: PublishRequest): Promise<StreamPosition | null>;
  /**
   * For a legacy message whose frame needs a look-up first (a partial-application push): true when
   * this instance is the one to publish it, false when another instance is, null when that cannot
   * be decided now (Redis down: every instance then delivers its own copy locally).
   */
  claim(claim: IngestClaim): Promise<boolean | null>;
  /** The stream's top and its kept publications with offset > `since` (at most `limit`). Rejects when history is unreadable. */
  history(stream: string, since: number, limit: number): Promise<HistoryRead>;
  outage(): OutageStats;
  /**
   * Whether broadcasts of this instance are on their way to its own deliver function (sent to
   * Redis, their copy not back yet): the outbox waits a moment for them before writing (fanout.ts).
   * Room publications do not count: holding every write for them would add latency and batch little.
   */
  expectingOwnBroadcasts(): boolean;
  onStatusChange(listener: BrokerStatusListener): void;
  close(): Promise<void>;
}

export const BROADCAST_STREAM = 'broadcast';

/** A room literally named `broadcast` gets its own stream, so its history never reaches everyone. */
export function streamOf(target: BrokerTarget): string {
  if (target.kind === 'all') return BROADCAST_STREAM;
  return target.roomId === BROADCAST_STREAM ? `room:${BROADCAST_STREAM}` : target.roomId;
}

export function targetOf(stream: string): BrokerTarget {
  if (stream === BROADCAST_STREAM) return { kind: 'all' };
  return { kind: 'room', roomId: stream === `room:${BROADCAST_STREAM}` ? BROADCAST_STREAM : stream };
}

/**
 * The one rule for an instance's own publications coming back from the other instances: the
 * origin skips a copy it already delivered to its own clients (history off, or accepted during a
 * Redis outage and replayed), and takes every other one (history on: the origin delivers from the
 * shared channel like everybody else, so one stream reaches every instance in offset order).
 */
export function isOwnEcho(origin: string, deliveredAtOrigin: boolean, instanceId: string): boolean {
  return deliveredAtOrigin && origin === instanceId;
}

/**
 * `frame` with `"stream_position":{…}` spliced in before its closing `}`: the frame is still
 * serialised once and identical for every recipient, and the publisher's fields keep their
 * places (a reader that finds PHP's first fields at fixed offsets still finds them). The Redis
 * script does the same in Lua.
 */
export function withPosition(frame: string, point: StreamPoint): string {
  const position = `{"stream":${JSON.stringify(point.stream)},"offset":${point.offset},"epoch":${JSON.stringify(point.epoch)}}`;
  return frame === '{}' ? `{"stream_position":${position}}` : `${frame.slice(0, -1)},"stream_position":${position}}`;
}
