/**
 * The composition root: builds every part from the config and the injected dependencies, wires
 * them together, and owns start-up and shutdown. Tests build gateways in-process through it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { CLOSE_CODES } from '../protocol/constants.js';
import { AdminCounters } from './admin/counters.js';
import { ClusterView } from './admin/cluster-view.js';
import { AdminInstance, type AdminSource } from './admin/instance.js';
import { RecentLog } from './admin/recent-log.js';
import { loadAdminPage } from './admin/page.js';
import { registerAdminRoutes } from './admin/routes.js';
import type { ClusterChannel } from './cluster/channel.js';
import { MemoryClusterChannel } from './cluster/memory.js';
import type { Broker, BrokerStatus, OutageStats } from './broker/broker.js';
import { historySettings } from './broker/history-settings.js';
import { MemoryBroker } from './broker/memory.js';
import { identityEnabled, type Config } from './config/index.js';
import type { Connection } from './connection.js';
import { PartialApplicationsService } from './data/partial-applications.js';
import { DisabledStore, type PartialApplicationsStore, type StoreStatus } from './data/store.js';
import type { HandlerContext } from './handlers/context.js';
import { Heartbeat } from './heartbeat.js';
import { SubscribeAuthorization } from './auth/subscribe-authorization.js';
import type { CallbackState } from './auth/http-callback.js';
import { IdentityBinding } from './identity/binding.js';
import { createIdentityResolver } from './identity/create.js';
import type { IdentityMode, IdentityResolver } from './identity/resolver.js';
import { UserRoomIds, type UserRoomKeySource } from './identity/user-rooms.js';
import { registerMetricsRoute } from './http/metrics.js';
import { registerPublishRoutes } from './http/publish.js';
import { HttpRouter, sendJson } from './http/router.js';
import { registerHomePage } from './http/home.js';
import { defaultClientAssetsDir, loadClientAssets, packageRoot, registerClientAssets } from './http/static-assets.js';
import type { ExternalIngress } from './ingress/external.js';
import { Ingress } from './ingress/ingress.js';
import { SpoolIngress, type SpoolStatus } from './ingress/spool.js';
import { silentLogger, type Logger } from './log.js';
import { noopObserver, type GatewayObserver } from './observer.js';
import { judgeOrigin, originRules } from './policy/origin.js';
import { Recovery } from './recovery/recovery.js';
import { UpgradePolicy } from './policy/upgrade-policy.js';
import { sharedOutbox } from './fanout.js';
import { stamped } from './messages.js';
import { Relay } from './relay.js';
import { RoomRegistry } from './rooms.js';
import { sessionRoomId } from './session.js';
import { ConnectionLifecycle } from './lifecycle.js';
import { SocketIoFrontDoor, SOCKET_IO_PATHS } from './socketio/front-door.js';
import { Transport } from './transport.js';

export interface GatewayDeps {
  log?: Logger;
  /** Defaults to the single-node memory broker (history per WSS_HISTORY_SIZE/TTL). */
  broker?: Broker;
  /** Defaults to no database ("Database not connected" replies). */
  store?: PartialApplicationsStore;
  observer?: GatewayObserver;
  /**
   * Ingress feeds besides the spool folder (the Redis legacy channels when Redis is configured).
   * Started after the broker, closed before it. Defaults to none.
   */
  ingressSources?: ExternalIngress[];
  /** Folder of the built browser client and test page (scripts/build-client.mjs). Defaults to this package's dist/client. */
  clientAssetsDir?: string;
  /** Who connections are. Defaults to what `config.auth` asks for (none, HTTP callback, token). */
  identity?: IdentityResolver;
  /** Request/response between instances (the admin view). Defaults to this instance alone. */
  cluster?: ClusterChannel;
  /** The logger's recent warnings and errors (createLogger's `recent` stream), shown by the admin view. */
  recentLog?: RecentLog;
  /** Called once a drain (admin view) has closed the gateway; the CLI exits the process. */
  onDrained?: () => void;
}

export interface HealthReport {
  status: 'ok' | 'degraded';
  clients: number;
  redis: BrokerStatus;
  database: StoreStatus;
  uptime: number;
  instance: string;
  /** Lets `portico-ws start --daemon` tell its own process from another one holding the port. */
  pid: number;
  rooms: Record<string, number>;
  spool: SpoolStatus | 'disabled';
  /** Stream history for recovery on reconnect (WSS_HISTORY_SIZE > 0). */
  history: 'enabled' | 'disabled';
  /** Messages accepted while Redis was down: kept now for the other instances, dropped and replayed since start. */
  outage: OutageStats;
  /** Identity source and its endpoint's state (`up` when nothing remote is asked). */
  identity: { mode: IdentityMode; state: CallbackState };
  /** Entity-room authorization endpoint: `off` while no entity type is checked. */
  subscribeAuth: CallbackState | 'off';
}

export class Gateway implements AdminSource {
  readonly log: Logger;
  readonly broker: Broker;
  /** Takes back the broker's say in when the shared outbox flushes (fanout.ts). */
  private releaseOutboxHold: (() => void) | null = null;
  readonly store: PartialApplicationsStore;
  readonly observer: GatewayObserver;
  readonly connections = new Set<Connection>();
  readonly rooms = new RoomRegistry();
  readonly relay: Relay;
  readonly partials: PartialApplicationsService;
  readonly recovery: Recovery;
  readonly ingress: Ingress;
  readonly router = new HttpRouter();
  readonly server: http.Server;
  readonly spool: SpoolIngress | null;
  readonly ingressSources: readonly ExternalIngress[];
  /** Which upgrades become connections (origin, capacity, per address); every front door asks it. */
  readonly upgradePolicy: UpgradePolicy;
  readonly identity: IdentityBinding;
  readonly subscribeAuth: SubscribeAuthorization;
  /** Counts for the admin view's charts; forwards every hook to the injected observer. */
  readonly counters: AdminCounters;
  readonly recentLog: RecentLog;
  readonly cluster: ClusterChannel;
  readonly admin: AdminInstance;
  readonly version: string = packageVersion();
  draining = false;
  private readonly onDrained: () => void;
  private readonly transport: Transport;
  /** PorticoEstate's Next.js frontend connects here (Socket.IO), into the same rooms. */
  readonly socketIo: SocketIoFrontDoor;
  /** Where the user-room key came from (logged at start, never the key). */
  private readonly userRoomKeySource: UserRoomKeySource;
  private readonly heartbeat: Heartbeat;
  private readonly startedAt = Date.now();
  private closing: Promise<void> | null = null;

  constructor(readonly config: Config, deps: GatewayDeps = {}) {
    this.log = deps.log ?? silentLogger();
    this.broker = deps.broker ?? new MemoryBroker(config.instanceId, historySettings(config.delivery));
    this.store = deps.store ?? new DisabledStore();
    this.counters = new AdminCounters(deps.observer ?? noopObserver);
    this.observer = this.counters;
    this.recentLog = deps.recentLog ?? new RecentLog();
    this.cluster = deps.cluster ?? new MemoryClusterChannel(config.instanceId);
    this.admin = new AdminInstance(this);
    this.onDrained = deps.onDrained ?? (() => {});
    this.ingressSources = deps.ingressSources ?? [];
    const identityConfigured = deps.identity !== undefined || identityEnabled(config.auth);
    const userRooms = UserRoomIds.fromSecrets(config.auth.userRoomKey, config.auth.secret);
    this.userRoomKeySource = userRooms.source;
    const resolver = deps.identity ?? createIdentityResolver(config.auth, this.log, (o) => this.observer.authCallback('identity', o));
    this.identity = new IdentityBinding(resolver, userRooms, this.rooms, this.log, config.auth.retryMs);
    this.subscribeAuth = new SubscribeAuthorization(config.auth, this.log, (o) => this.observer.authCallback('subscribe', o));
    this.relay = new Relay(this.broker, config.instanceId, this.rooms, this.connections, (p, n) => {
      this.observer.delivered(p, n);
      if (p.position !== undefined) this.recovery.noteDelivered(p.position);
    });
    this.partials = new PartialApplicationsService(this.store, this.log);
    this.recovery = new Recovery(this.broker, this.rooms, config.delivery.historySize, config.delivery.recoverConcurrency, this.log,
      (recovered, missed) => this.observer.recovered?.(recovered, missed));
    this.ingress = new Ingress(this.relay, this.rooms, this.partials, this.broker, this.log, (channel, source) => this.observer.ingress(channel, source), {
      // No identity source: nobody is in a user room, so user-targeted payloads are dropped, not routed.
      userRooms: identityConfigured ? userRooms : null,
      onDropped: (reason) => this.observer.undeliverable(reason),
    });
    this.spool = config.spool.enabled
      ? new SpoolIngress({ ...config.spool, instanceId: config.instanceId }, this.ingress, this.log, (o) => this.observer.spoolFile(o), () => this.broker.status === 'connected')
      : null;

    const ctx: HandlerContext = {
      config, log: this.log, rooms: this.rooms, relay: this.relay, partials: this.partials, recovery: this.recovery,
      identity: this.identity, subscribeAuth: this.subscribeAuth,
      setSession: (conn, sessionId, type) => {
        if (conn.sessionRoom) this.rooms.leave(conn, conn.sessionRoom);
        conn.sessionId = sessionId;
        conn.sessionType = type;
        conn.sessionRoom = sessionRoomId(sessionId);
        this.rooms.join(conn, conn.sessionRoom);
      },
    };
    const lifecycle = new ConnectionLifecycle(config, ctx, this.connections, this.log, this.observer);
    // Every front door asks the same policy; handshakes still settling count against the capacity.
    this.upgradePolicy = new UpgradePolicy(
      { ...config.limits, trustedProxies: config.trustedProxies },
      () => this.connections.size + lifecycle.pendingUpgrades + this.socketIo.handshaking, this.log, (reason) => this.observer.connectionRefused(reason),
    );
    this.transport = new Transport(config, lifecycle, this.log, this.upgradePolicy, () => !this.draining);
    this.socketIo = new SocketIoFrontDoor(config, lifecycle, this.log, this.observer, this.upgradePolicy);
    this.heartbeat = new Heartbeat(config.timers, this.connections, this.rooms, this.relay, this.log);

    this.router.add('GET', ['/health', '/wss/health'], (_req, res) => {
      const report = this.health();
      sendJson(res, 200, report);
    });
    registerPublishRoutes(this.router, this.ingress, config.publish, this.log, () => this.closing === null);
    this.observer.attach?.({
      connections: () => this.connections.size,
      roomsByKind: () => this.rooms.countByKind(),
      busStatus: () => this.broker.status,
      outage: () => this.broker.outage(),
    });
    for (const method of ['GET', 'POST', 'OPTIONS']) this.router.add(method, SOCKET_IO_PATHS, this.socketIo.handleRequest);
    if (config.metrics.enabled) registerMetricsRoute(this.router, this.observer);
    if (config.admin.token) {
      const view = new ClusterView(this.cluster, { timeoutMs: config.admin.timeoutMs, forgetAfterMs: config.admin.forgetAfterMs });
      const page = loadAdminPage(deps.clientAssetsDir ?? defaultClientAssetsDir(), this.log);
      const ownOriginOnly = originRules([]);
      const sameOrigin = (req: http.IncomingMessage): boolean => {
        const verdict = judgeOrigin(req.headers.origin, this.upgradePolicy.proxies.describe(req), ownOriginOnly);
        return verdict === 'no-origin' || verdict === 'same-origin';
      };
      registerAdminRoutes(this.router, { token: config.admin.token, page, view, source: this, log: this.log, sameOrigin });
    }
    registerClientAssets(this.router, loadClientAssets(deps.clientAssetsDir ?? defaultClientAssetsDir(), this.log));
    registerHomePage(this.router, { packageDir: packageRoot(), metricsEnabled: config.metrics.enabled && this.observer.exposition !== undefined, adminEnabled: config.admin.token !== undefined });
    this.broker.onStatusChange((from, to) => {
      this.recovery.forgetKnownTops();
      this.observer.busStatusChanged(from, to);
    });
    this.server = http.createServer(this.router.handle);
    this.server.on('upgrade', (req, socket, head) => {
      if (this.socketIo.handles(req)) this.socketIo.handleUpgrade(req, socket, head);
      else this.transport.handleUpgrade(req, socket, head);
    });
    // No 'clientError' listener: Node's own answers a malformed request 400 (431 for oversized
    // headers, 408 for a header timeout) and then closes the socket, instead of a silent drop.
  }

  /** Start every part and listen. Resolves with the bound address. */
  async start(): Promise<AddressInfo> {
    await this.broker.start(this.relay.deliver, this.relay.hasMembers);
    this.releaseOutboxHold = sharedOutbox.addHold(() => this.broker.expectingOwnBroadcasts());
    await this.cluster.start(this.admin.respond);
    this.admin.start();
    await this.spool?.start();
    for (const source of this.ingressSources) await source.start(this.ingress);
    this.heartbeat.start();
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.config.port, this.config.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const address = this.address();
    this.log.info({ host: address.address, port: address.port, instance: this.config.instanceId }, 'portico-ws listening');
    if (this.store.status === 'disabled') this.log.info('no database configured: get_partial_applications answers "Database not connected"');
    const { auth } = this.config;
    this.log.info({
      identity: this.identity.resolver.mode, userRoomKey: this.userRoomKeySource,
      subscribeAuth: auth.subscribeTypes.length > 0 ? auth.subscribeTypes.join(',') : 'off',
    }, 'identity and entity-room authorization');
    return address;
  }

  address(): AddressInfo {
    return this.server.address() as AddressInfo;
  }

  health(): HealthReport {
    const redis = this.broker.status;
    const database = this.store.status;
    const spool = this.spool?.status ?? 'disabled';
    const identity = { mode: this.identity.resolver.mode, state: this.identity.resolver.state };
    const subscribeAuth = this.subscribeAuth.state;
    const degraded = (redis !== 'disabled' && redis !== 'connected') || database === 'disconnected' || spool === 'unavailable'
      || identity.state === 'down' || subscribeAuth === 'down';
    return {
      status: degraded ? 'degraded' : 'ok',
      clients: this.connections.size,
      redis,
      database,
      uptime: Math.round((Date.now() - this.startedAt) / 1000),
      instance: this.config.instanceId,
      pid: process.pid,
      rooms: this.rooms.countByKind(),
      spool,
      history: this.broker.historyEnabled ? 'enabled' : 'disabled',
      outage: this.broker.outage(),
      identity,
      subscribeAuth,
    };
  }

  get instanceId(): string {
    return this.config.instanceId;
  }

  /** Stop accepting, close every connection with 1001, terminate stragglers after the timeout. */
  close(): Promise<void> {
    this.closing ??= this.shutdown(CLOSE_CODES.GOING_AWAY, 'Server shutting down');
    return this.closing;
  }

  /**
   * For rolling deploys (the admin view): stop accepting upgrades, close every connection with
   * 1012 so clients reconnect (to another instance behind the load balancer), then stop and call
   * `onDrained` (the CLI exits).
   */
  drain(): void {
    if (this.draining || this.closing !== null) return;
    this.draining = true;
    this.log.warn({ clients: this.connections.size }, 'draining: closing every connection with 1012, then stopping');
    this.closing = this.shutdown(CLOSE_CODES.SERVICE_RESTART, 'Service restart: reconnect');
    void this.closing.then(() => this.onDrained(), (err: unknown) => this.log.error({ err }, 'drain failed'));
  }

  /** A test notification (admin view) to the members of one room on every instance. */
  notifyRoom(roomId: string, message: string): void {
    this.relay.toRoom(roomId, stamped({ type: 'notification', message, source: 'admin' }));
  }

  private async shutdown(code: number, reason: string): Promise<void> {
    this.log.info({ clients: this.connections.size }, 'shutting down');
    this.heartbeat.stop();
    this.admin.stop();
    this.identity.close();
    // Socket.IO clients first, while the HTTP server still answers their polling requests.
    await this.socketIo.drain(this.connections, this.config.timers.shutdownTimeoutMs);
    const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Stop claiming spool files before connections close: a file claimed while every connection
    // is closing would be deleted having reached nobody; left in the folder, the next start delivers it.
    await this.spool?.close();
    let check: NodeJS.Timeout | undefined;
    const allClosed = new Promise<void>((resolve) => {
      check = setInterval(() => { if (this.connections.size === 0) resolve(); }, 20);
    });
    for (const conn of this.connections) conn.close(code, reason);
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), this.config.timers.shutdownTimeoutMs).unref());
    const outcome = this.connections.size === 0 ? 'closed' : await Promise.race([allClosed, timeout]);
    clearInterval(check);
    if (outcome === 'timeout') {
      for (const conn of this.connections) conn.terminate();
    }
    this.socketIo.close();
    this.server.closeAllConnections();
    await serverClosed;
    for (const source of this.ingressSources) await source.close();
    await this.cluster.close();
    this.releaseOutboxHold?.();
    await this.broker.close();
    await this.store.close();
    this.log.info('stopped');
  }
}

export function createGateway(config: Config, deps: GatewayDeps = {}): Gateway {
  return new Gateway(config, deps);
}

/** This package's version (package.json), shown by the admin view. */
function packageVersion(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
