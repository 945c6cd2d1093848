/**
 * Spool-file ingress: the PHP application writes `websocket_notification_<microtime>.json` and
 * `websocket_session_<sessionId>_<microtime>.json` when it cannot reach Redis (and our publisher
 * also `websocket_room_<microtime>.json`, a `room_messages` payload, which PHP never had).
 *
 * Several gateways may share the folder, and the files are written exactly when the bus between
 * them is down, so every instance delivers every file to its own clients, like a message on a
 * Redis channel (see spool-folder.ts for the layout):
 * 1. whichever instance sees a new file first moves it into the queue (an atomic rename);
 * 2. each instance marks a queued file as its own before delivering it locally, so it delivers
 *    it once (a marker and an in-memory set, so neither a restart with the same id nor a
 *    removed marker delivers it twice);
 * 3. the instance that finds every live instance's marker removes the file. Instances announce
 *    themselves with a heartbeat file; one silent for `claimTimeoutMs` (crashed) is no longer
 *    waited for.
 * An instance alone in its folder while the bus is connected claims the file for itself and sends
 * it out on the bus instead, so instances with folders of their own (other hosts) get it too.
 * Either way a file takes one path, decided by the one rename that moves it out of the folder.
 * A file still being written is re-read until it parses or has been quiet for `settleMs`; one
 * that never parses, is too large, or is not a regular file goes to failed/.
 */
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../config/index.js';
import type { Logger } from '../log.js';
import { ThrottledLog } from '../redis/throttled-log.js';
import type { Ingress, IngressReach } from './ingress.js';
import { classifySpoolFile, compareSpoolNames, readSpoolEntry, redactName } from './spool-files.js';
import { SpoolWorkFolder } from './spool-folder.js';

export { classifySpoolFile, type SpoolFile } from './spool-files.js';
export { FAILED_DIR, INSTANCES_DIR, QUEUE_DIR, WORK_DIR } from './spool-folder.js';

/** Where versions before the shared queue kept their claims (`<name>@<instance>`). */
export const LEGACY_PROCESSING_DIR = '.portico-ws-processing';

export type SpoolOutcome = 'delivered' | 'failed';
/** `unavailable`: the work folder is not safe to use (logged); nothing is delivered until it is. */
export type SpoolStatus = 'enabled' | 'unavailable';

export type SpoolOptions = Config['spool'] & { instanceId: string };

type Delivery = 'delivered' | 'failed' | 'gone' | 'deferred';

export class SpoolIngress {
  private watcher: FSWatcher | null = null;
  private scanTimer: NodeJS.Timeout | null = null;
  private beatTimer: NodeJS.Timeout | null = null;
  private scanning: Promise<void> | null = null;
  private rescan = false;
  private closed = false;
  private problem: string | null = null;
  private scanError: string | null = null;
  /** Files in the folder this instance cannot move (warned about once each). */
  private readonly unmovable = new Set<string>();
  private readonly folder: SpoolWorkFolder;
  /** Queued names this process has delivered (or failed) while they are still queued. */
  private readonly done = new Set<string>();
  /** Bad entries are logged, but a folder full of them must not flood the log. */
  private readonly rejects: ThrottledLog;
  private readonly startedAt = new Date().toISOString();

  constructor(
    private readonly opts: SpoolOptions,
    private readonly ingress: Ingress,
    private readonly log: Logger,
    private readonly onOutcome: (outcome: SpoolOutcome) => void = () => {},
    /** Whether the bus reaches the other instances now (Redis connected). */
    private readonly clusterReachable: () => boolean = () => false,
  ) {
    this.folder = new SpoolWorkFolder(opts.dir, opts.instanceId, opts.claimTimeoutMs);
    this.rejects = new ThrottledLog(log);
  }

  get status(): SpoolStatus {
    return this.problem === null ? 'enabled' : 'unavailable';
  }

  async start(): Promise<void> {
    if (await this.ready()) await this.beat();
    try {
      this.watcher = watch(this.opts.dir, (_event, name) => {
        if (name && classifySpoolFile(name.toString())) this.trigger();
      });
      this.watcher.on('error', (err) => this.log.warn({ err }, 'spool watcher failed; relying on periodic scans'));
    } catch (err) {
      this.log.warn({ err, dir: this.opts.dir }, 'cannot watch spool folder; relying on periodic scans');
    }
    this.scanTimer = setInterval(() => this.trigger(), this.opts.scanIntervalMs);
    this.scanTimer.unref();
    this.beatTimer = setInterval(() => void this.beat(), Math.max(50, Math.floor(this.opts.claimTimeoutMs / 4)));
    this.beatTimer.unref();
    this.log.info({ dir: this.opts.dir }, 'spool ingress started');
    this.trigger();
  }

  /** Run a scan now, or once more after the running one. Resolves when caught up. */
  trigger(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.scanning) {
      this.rescan = true;
      return this.scanning;
    }
    this.scanning = (async () => {
      do {
        this.rescan = false;
        await this.scanOnce().then(() => this.scanFailed(null), (err: Error) => this.scanFailed(err));
      } while (this.rescan && !this.closed);
    })().finally(() => { this.scanning = null; });
    return this.scanning;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.watcher?.close();
    if (this.scanTimer) clearInterval(this.scanTimer);
    if (this.beatTimer) clearInterval(this.beatTimer);
    await this.scanning;
    if (this.problem === null) await this.folder.leave().catch((err) => this.log.warn({ err }, 'could not remove this instance from the spool folder'));
  }

  /** A scan that keeps failing the same way (an unreadable folder) is logged once, and its recovery once. */
  private scanFailed(err: Error | null): void {
    const reason = err?.message ?? null;
    if (reason === this.scanError) return;
    if (err) this.log.error({ err }, 'spool scan failed');
    else this.log.info('spool scans work again');
    this.scanError = reason;
  }

  /** Check and (re)create the work folders; logs once when they become unusable and once when usable again. */
  private async ready(): Promise<boolean> {
    try {
      await this.folder.prepare();
    } catch (err) {
      const reason = (err as Error).message;
      if (this.problem !== reason) this.log.error({ dir: this.opts.dir, reason }, 'spool folder unusable; spool files are not delivered until this is fixed');
      this.problem = reason;
      return false;
    }
    if (this.problem !== null) this.log.info({ dir: this.opts.dir }, 'spool folder usable again');
    this.problem = null;
    return true;
  }

  private async beat(): Promise<void> {
    if (this.closed || this.problem !== null) return;
    await this.folder.beat({ instance: this.opts.instanceId, pid: process.pid, host: os.hostname(), startedAt: this.startedAt })
      .catch((err) => this.log.debug({ err }, 'spool heartbeat not written; the next scan re-creates the folders'));
  }

  private async scanOnce(): Promise<void> {
    if (!(await this.ready())) return;
    await this.returnLegacyClaims();
    const live = await this.folder.liveInstances();
    await this.takeNewFiles(live);
    const queued = (await fs.readdir(this.folder.queue)).filter((n) => classifySpoolFile(n)).sort(compareSpoolNames);
    for (const name of queued) {
      if (this.closed) return;
      if (!this.done.has(name)) await this.processQueued(name);
    }
    await this.release(live);
  }

  /**
   * Move new files out of the spool folder: into the queue for every instance sharing it, or,
   * alone with a connected bus, into this instance's claims to go out on the bus. Of several
   * instances one wins each rename.
   */
  private async takeNewFiles(live: readonly string[]): Promise<void> {
    const names = (await fs.readdir(this.opts.dir)).filter((n) => classifySpoolFile(n)).sort(compareSpoolNames);
    for (const name of this.unmovable) if (!names.includes(name)) this.unmovable.delete(name);
    for (const name of names) {
      if (this.closed) return;
      const viaBus = live.length === 1 && this.clusterReachable();
      const taken = await fs.rename(path.join(this.opts.dir, name), path.join(viaBus ? this.folder.claimed : this.folder.queue, name)).then(
        () => true,
        (err: NodeJS.ErrnoException) => {
          // ENOENT: another instance took it.
          if (err.code !== 'ENOENT' && !this.unmovable.has(name)) {
            this.unmovable.add(name);
            this.rejects.warn({ file: redactName(name), code: err.code }, 'cannot move a spool file out of the folder (is it owned by another user in a sticky folder?)');
          }
          return false;
        },
      );
      if (taken && viaBus) await this.deliverClaimed(name);
    }
  }

  private async deliverClaimed(name: string): Promise<void> {
    const file = path.join(this.folder.claimed, name);
    const outcome = await this.deliver(file, name, 'cluster');
    if (outcome === 'delivered') await fs.rm(file, { force: true });
    // Shutting down while it is still being written: back to the folder for whoever scans next.
    if (outcome === 'deferred') await fs.rename(file, path.join(this.opts.dir, name)).catch(() => {});
  }

  private async processQueued(name: string): Promise<void> {
    if (!(await this.folder.markDelivered(name))) {
      this.done.add(name); // delivered by this instance id before (a restart with a fixed WSS_INSTANCE_ID)
      return;
    }
    const outcome = await this.deliver(path.join(this.folder.queue, name), name, 'local');
    if (outcome === 'delivered') this.done.add(name);
    else await this.folder.unmark(name); // not queued any more, or left for the next start
  }

  private async deliver(file: string, name: string, reach: IngressReach): Promise<Delivery> {
    const kind = classifySpoolFile(name)!;
    let text: string;
    for (;;) {
      const read = await readSpoolEntry(file, this.opts.maxBytes);
      if (read.kind === 'gone') return 'gone';
      if (read.kind === 'rejected') return this.fail(file, name, read.reason);
      if (isJson(read.text)) {
        text = read.text;
        break;
      }
      // Possibly still being written (PHP's file_put_contents is not atomic): wait until quiet.
      const quietFor = Date.now() - read.mtimeMs;
      if (quietFor >= this.opts.settleMs) return this.fail(file, name, 'file content is not valid JSON');
      if (this.closed) return 'deferred';
      await sleep(Math.min(100, this.opts.settleMs - quietFor + 1));
    }
    let payload: unknown = JSON.parse(text);
    if (kind.channel === 'session_messages' && payload && typeof payload === 'object' && !Array.isArray(payload)) {
      // The file name carries the session id; older PHP versions left it out of the body.
      payload = { type: 'session_targeted', sessionId: kind.sessionId, ...(payload as object) };
    }
    try {
      // Every instance sharing the folder delivers the file; its name (unique) is the claim by which
      // exactly one of them enters it into history.
      const claim = reach === 'local' ? { key: createHash('sha1').update(name).digest('base64url'), occurrence: 1 } : undefined;
      await this.ingress.handle(kind.channel, payload, 'spool', reach, claim);
    } catch (err) {
      return this.fail(file, name, (err as Error).message);
    }
    this.onOutcome('delivered');
    this.log.debug({ file: redactName(name) }, 'spool file delivered');
    return 'delivered';
  }

  /** Move an entry to failed/ (of instances sharing the queue, the first to get there does; for the others it is gone). */
  private async fail(file: string, name: string, reason: string): Promise<Delivery> {
    try {
      await fs.rename(file, path.join(this.folder.failed, name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
      throw err;
    }
    this.onOutcome('failed');
    this.rejects.warn({ file: redactName(name), movedTo: path.join(this.folder.failed, redactName(name)), reason }, 'spool file could not be delivered; moved aside');
    return 'failed';
  }

  /** Remove queued files every live instance has delivered; forget what is no longer queued. */
  private async release(live: readonly string[]): Promise<void> {
    const queued = new Set(await fs.readdir(this.folder.queue));
    for (const name of this.done) {
      if (queued.has(name) && await this.folder.deliveredByAll(name, live)) {
        await fs.rm(path.join(this.folder.queue, name), { force: true });
        queued.delete(name);
      }
      if (!queued.has(name)) this.done.delete(name);
    }
    for (const marker of await this.folder.ownMarkers()) {
      if (!queued.has(marker)) await this.folder.unmark(marker);
    }
  }

  /**
   * Versions before the shared queue claimed files into `.portico-ws-processing/<name>@<instance>`.
   * Claims older than the claim timeout (their instance stopped or was upgraded) go back to the
   * folder, and the old folder is removed once empty. Newer ones may belong to an old instance
   * still running during a rolling upgrade, so they are left to it.
   */
  private async returnLegacyClaims(): Promise<void> {
    const legacy = path.join(this.opts.dir, LEGACY_PROCESSING_DIR);
    const stat = await fs.lstat(legacy).catch(() => null);
    const uid = process.getuid?.();
    if (!stat || !stat.isDirectory() || (uid !== undefined && stat.uid !== uid)) return;
    const now = Date.now();
    let left = 0;
    for (const claimed of await fs.readdir(legacy)) {
      const at = claimed.lastIndexOf('@');
      const full = path.join(legacy, claimed);
      const entry = at < 0 ? null : await fs.lstat(full).catch(() => null);
      if (!entry || now - entry.ctimeMs < this.opts.claimTimeoutMs) {
        left += 1;
        continue;
      }
      await fs.rename(full, path.join(this.opts.dir, claimed.slice(0, at))).catch(() => {});
      this.log.info({ file: redactName(claimed) }, 'returned a spool claim left by an earlier version');
    }
    if (left === 0) await fs.rmdir(legacy).catch(() => {});
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
