/**
 * The gateway's own folders inside the spool folder, all under one dot-folder:
 *
 *   .portico-ws/queue/<name>                  spool files taken out of the folder, until every
 *                                             live instance has delivered them
 *   .portico-ws/delivered/<instance>/<name>   marker: this instance has delivered <name>
 *   .portico-ws/claimed/<instance>/<name>     a file one instance delivers through the bus alone
 *   .portico-ws/instances/<instance>          heartbeat: this instance is alive (its mtime)
 *   .portico-ws/failed/<name>                 entries that could not be delivered, kept for people
 *
 * The dot-folder must be a real directory owned by this user and writable by nobody else: in a
 * shared folder like /tmp someone else could have made it first (or made it a symbolic link) to
 * read, swap or redirect what the gateway moves into it.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

export const WORK_DIR = '.portico-ws';
/** Relative to the spool folder. */
export const QUEUE_DIR = path.join(WORK_DIR, 'queue');
export const FAILED_DIR = path.join(WORK_DIR, 'failed');
export const INSTANCES_DIR = path.join(WORK_DIR, 'instances');
export const DELIVERED_DIR = path.join(WORK_DIR, 'delivered');
export const CLAIMED_DIR = path.join(WORK_DIR, 'claimed');

/** The dot-folder exists but is not safe to use (the message says why and what to do). */
export class SpoolFolderError extends Error {}

/** A file name for an instance id (which may hold '/' or other characters names cannot). */
export const instanceFileName = (instanceId: string): string => encodeURIComponent(instanceId);

export class SpoolWorkFolder {
  readonly root: string;
  readonly queue: string;
  readonly failed: string;
  private readonly instances: string;
  private readonly delivered: string;
  private readonly claimedRoot: string;
  /** This instance's claims (files it delivers through the bus, to every instance). */
  readonly claimed: string;
  private readonly me: string;

  /** @param livenessMs an instance whose heartbeat is older than this is gone. */
  constructor(readonly spoolDir: string, instanceId: string, private readonly livenessMs: number) {
    this.root = path.join(spoolDir, WORK_DIR);
    this.queue = path.join(spoolDir, QUEUE_DIR);
    this.failed = path.join(spoolDir, FAILED_DIR);
    this.instances = path.join(spoolDir, INSTANCES_DIR);
    this.delivered = path.join(spoolDir, DELIVERED_DIR);
    this.me = instanceFileName(instanceId);
    this.claimedRoot = path.join(spoolDir, CLAIMED_DIR);
    this.claimed = path.join(this.claimedRoot, this.me);
  }

  /** Create the folders (again: a /tmp cleaner may remove them while idle) after checking the dot-folder is ours. */
  async prepare(): Promise<void> {
    await fs.mkdir(this.spoolDir, { recursive: true });
    await fs.mkdir(this.root, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'EEXIST') throw err; });
    const stat = await fs.lstat(this.root);
    const where = this.root;
    if (stat.isSymbolicLink()) throw new SpoolFolderError(`${where} is a symbolic link; remove it or set WSS_SPOOL_DIR to a private folder`);
    if (!stat.isDirectory()) throw new SpoolFolderError(`${where} is not a folder; remove it or set WSS_SPOOL_DIR to a private folder`);
    const uid = process.getuid?.();
    if (uid !== undefined && stat.uid !== uid) throw new SpoolFolderError(`${where} belongs to uid ${stat.uid}, not to this user (uid ${uid}); remove it or set WSS_SPOOL_DIR to a private folder`);
    if ((stat.mode & 0o022) !== 0) throw new SpoolFolderError(`${where} is writable by others (mode ${(stat.mode & 0o777).toString(8)}); chmod 700 it`);
    for (const dir of [this.queue, this.failed, this.instances, this.delivered, this.claimed]) await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  }

  /** Write (or refresh) this instance's heartbeat. */
  async beat(details: object): Promise<void> {
    await fs.writeFile(path.join(this.instances, this.me), JSON.stringify(details), { mode: 0o600 });
  }

  /**
   * The instances alive now (file names), this one always among them. Heartbeats older than the
   * liveness bound are removed with their markers, and their claims go back to the spool folder:
   * a crashed instance must not hold files back.
   */
  async liveInstances(now = Date.now()): Promise<string[]> {
    const live = new Set([this.me]);
    for (const name of await fs.readdir(this.instances)) {
      if (name === this.me) continue;
      const stat = await fs.stat(path.join(this.instances, name)).catch(() => null);
      if (!stat) continue;
      if (now - stat.mtimeMs <= this.livenessMs) {
        live.add(name);
        continue;
      }
      await fs.rm(path.join(this.instances, name), { force: true });
      await fs.rm(path.join(this.delivered, name), { recursive: true, force: true });
      await this.returnClaims(path.join(this.claimedRoot, name));
    }
    return [...live];
  }

  /** Put claimed files back into the spool folder (for the next scan of any instance) and drop the folder. */
  async returnClaims(dir: string = this.claimed): Promise<void> {
    for (const name of await fs.readdir(dir).catch(() => [])) {
      await fs.rename(path.join(dir, name), path.join(this.spoolDir, name)).catch(() => {});
    }
    await fs.rmdir(dir).catch(() => {});
  }

  /** Record that this instance delivers `name`; false when it already had. */
  async markDelivered(name: string): Promise<boolean> {
    const dir = path.join(this.delivered, this.me);
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    try {
      await (await fs.open(path.join(dir, name), 'wx', 0o600)).close();
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
  }

  async unmark(name: string): Promise<void> {
    await fs.rm(path.join(this.delivered, this.me, name), { force: true });
  }

  /** Markers of this instance (names it has delivered and not yet swept). */
  async ownMarkers(): Promise<string[]> {
    return fs.readdir(path.join(this.delivered, this.me)).catch(() => []);
  }

  async deliveredByAll(name: string, live: readonly string[]): Promise<boolean> {
    for (const instance of live) {
      const marker = await fs.stat(path.join(this.delivered, instance, name)).catch(() => null);
      if (!marker) return false;
    }
    return true;
  }

  /** Leave cleanly: the others stop waiting for this instance at once. */
  async leave(): Promise<void> {
    await fs.rm(path.join(this.instances, this.me), { force: true });
    await fs.rm(path.join(this.delivered, this.me), { recursive: true, force: true });
    await this.returnClaims();
  }
}
