/**
 * Spool-file ingress: the PHP application writes `websocket_notification_<microtime>.json` and
 * `websocket_session_<sessionId>_<microtime>.json` when Redis is down (and our publisher also
 * `websocket_room_<microtime>.json`, a `room_messages` payload, which PHP never had). Each file is claimed by an
 * atomic rename into `.portico-ws-processing/` (so of several gateways sharing the folder exactly
 * one gets it), read, delivered and deleted. A file that is still being written is re-read until it
 * parses or has been quiet for `settleMs`; one that never parses goes to `failed/`. Claims left by
 * a crashed instance are returned to the folder after `claimTimeoutMs`.
 */
import { watch, type FSWatcher } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { LegacyChannel } from '../../protocol/constants.js';
import { maskSessionId } from '../../protocol/room-ids.js';
import type { Config } from '../config/index.js';
import type { Logger } from '../log.js';
import { IngressError, type Ingress } from './ingress.js';

export const PROCESSING_DIR = '.portico-ws-processing';
export const FAILED_DIR = 'failed';

const NOTIFICATION_FILE = /^websocket_notification_[\w.-]+\.json$/;
const SESSION_FILE = /^websocket_session_(.+)_([\d.]+)\.json$/;
const ROOM_FILE = /^websocket_room_[\w.-]+\.json$/;

export interface SpoolFile { channel: LegacyChannel; sessionId?: string }

/** Which channel a spool file name stands for, or null for files that are not ours. */
export function classifySpoolFile(name: string): SpoolFile | null {
  if (NOTIFICATION_FILE.test(name)) return { channel: 'notifications' };
  if (ROOM_FILE.test(name)) return { channel: 'room_messages' };
  const session = SESSION_FILE.exec(name);
  if (session) return { channel: 'session_messages', sessionId: session[1] };
  return null;
}

export type SpoolOutcome = 'delivered' | 'failed';

const DEFERRED = Symbol('deferred');

export class SpoolIngress {
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private scanning: Promise<void> | null = null;
  private rescan = false;
  private closed = false;
  private readonly processing: string;
  private readonly failed: string;

  constructor(
    private readonly opts: Config['spool'] & { instanceId: string },
    private readonly ingress: Ingress,
    private readonly log: Logger,
    private readonly onOutcome: (outcome: SpoolOutcome) => void = () => {},
  ) {
    this.processing = path.join(opts.dir, PROCESSING_DIR);
    this.failed = path.join(opts.dir, FAILED_DIR);
  }

  async start(): Promise<void> {
    await this.ensureFolders();
    try {
      this.watcher = watch(this.opts.dir, (_event, name) => {
        if (name && classifySpoolFile(name.toString())) this.trigger();
      });
      this.watcher.on('error', (err) => this.log.warn({ err }, 'spool watcher failed; relying on periodic scans'));
    } catch (err) {
      this.log.warn({ err, dir: this.opts.dir }, 'cannot watch spool folder; relying on periodic scans');
    }
    this.timer = setInterval(() => this.trigger(), this.opts.scanIntervalMs);
    this.timer.unref();
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
        await this.scanOnce().catch((err) => this.log.error({ err }, 'spool scan failed'));
      } while (this.rescan && !this.closed);
    })().finally(() => { this.scanning = null; });
    return this.scanning;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.watcher?.close();
    if (this.timer) clearInterval(this.timer);
    await this.scanning;
  }

  /** The work folders; made again on every scan, since a /tmp cleaner may remove them while idle. */
  private async ensureFolders(): Promise<void> {
    await fs.mkdir(this.processing, { recursive: true, mode: 0o700 });
    await fs.mkdir(this.failed, { recursive: true, mode: 0o700 });
  }

  private async scanOnce(): Promise<void> {
    await this.ensureFolders();
    await this.recoverStaleClaims();
    const names = (await fs.readdir(this.opts.dir)).filter((n) => classifySpoolFile(n)).sort();
    for (const name of names) {
      if (this.closed) return;
      await this.processFile(name);
    }
  }

  private async processFile(name: string): Promise<void> {
    const kind = classifySpoolFile(name)!;
    // Encoded: an instance id may hold '/' (not a file name) or '@' (the separator).
    const claimed = path.join(this.processing, `${name}@${encodeURIComponent(this.opts.instanceId)}`);
    try {
      await fs.rename(path.join(this.opts.dir, name), claimed);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // another instance claimed it
      throw err;
    }
    try {
      const text = await this.readSettled(claimed);
      if (text === DEFERRED) {
        // Shutting down while the file is still being written: leave it for the next start.
        await fs.rename(claimed, path.join(this.opts.dir, name)).catch(() => {});
        return;
      }
      if (text === null) throw new IngressError('file content is not valid JSON');
      let payload: unknown = JSON.parse(text);
      if (kind.channel === 'session_messages' && payload && typeof payload === 'object' && !Array.isArray(payload)) {
        // The file name carries the session id; older PHP versions left it out of the body.
        payload = { type: 'session_targeted', sessionId: kind.sessionId, ...(payload as object) };
      }
      await this.ingress.handle(kind.channel, payload, 'spool');
      await fs.rm(claimed, { force: true });
      this.onOutcome('delivered');
      this.log.debug({ file: redactName(name) }, 'spool file delivered');
    } catch (err) {
      const target = path.join(this.failed, name);
      await fs.rename(claimed, target).catch(() => {});
      this.onOutcome('failed');
      this.log.error({ file: redactName(name), movedTo: redactName(target), reason: (err as Error).message }, 'spool file could not be delivered; moved aside');
    }
  }

  /**
   * Read until the content parses as JSON, or the file has not changed for settleMs (null: it
   * never parses). DEFERRED when the ingress closes while the file may still be being written.
   */
  private async readSettled(file: string): Promise<string | null | typeof DEFERRED> {
    for (;;) {
      const text = await fs.readFile(file, 'utf8');
      if (isJson(text)) return text;
      const { mtimeMs } = await fs.stat(file);
      const quietFor = Date.now() - mtimeMs;
      if (quietFor >= this.opts.settleMs) return null;
      if (this.closed) return DEFERRED;
      await sleep(Math.min(100, this.opts.settleMs - quietFor + 1));
    }
  }

  private async recoverStaleClaims(): Promise<void> {
    const now = Date.now();
    for (const claimedName of await fs.readdir(this.processing)) {
      const at = claimedName.lastIndexOf('@');
      if (at < 0) continue;
      const full = path.join(this.processing, claimedName);
      const stat = await fs.stat(full).catch(() => null);
      if (!stat || now - stat.ctimeMs < this.opts.claimTimeoutMs) continue;
      await fs.rename(full, path.join(this.opts.dir, claimedName.slice(0, at))).catch(() => {});
      this.log.warn({ file: redactName(claimedName) }, 'returned a stale spool claim to the folder');
    }
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

/** Session spool file names contain the session id: mask it before logging. */
function redactName(name: string): string {
  const base = path.basename(name);
  const session = SESSION_FILE.exec(base.split('@')[0] ?? base);
  return session ? base.replace(session[1]!, maskSessionId(session[1]!)!) : base;
}
