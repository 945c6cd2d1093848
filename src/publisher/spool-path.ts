/**
 * The last delivery path: a spool file the gateway picks up (docs/protocol.md, "Spool files").
 * The file is written under a dot-name the gateway ignores, with mode 0600, then renamed into
 * place, so a gateway never sees half a file.
 *
 * PHP writes two kinds (notification, session); `room_messages` payloads go into a third kind,
 * `websocket_room_<microtime>.json`, that portico-ws reads and the original never wrote.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { LegacyChannel } from '../protocol/constants.js';
import type { JsonObject } from '../protocol/types.js';

let sequence = 0;

/** PHP's microtime(true) as text, made unique within this process (digits and dots only). */
function microtime(): string {
  const ms = Date.now();
  const seconds = Math.floor(ms / 1000);
  const micros = String((ms % 1000) * 1000 + (sequence = (sequence + 1) % 1000)).padStart(6, '0');
  return `${seconds}.${micros}.${process.pid}${randomBytes(2).readUInt16BE(0)}`;
}

/** The spool file name for a channel payload. */
export function spoolFileName(channel: LegacyChannel, payload: JsonObject): string {
  const stamp = microtime();
  switch (channel) {
    case 'notifications': return `websocket_notification_${stamp}.json`;
    case 'session_messages': return `websocket_session_${String(payload.sessionId)}_${stamp}.json`;
    case 'room_messages': return `websocket_room_${stamp}.json`;
  }
}

export class SpoolPath {
  /** @param dir the gateway's WSS_SPOOL_DIR (default there: the OS temp folder). */
  constructor(readonly dir: string) {}

  /** Write the file; resolves with its final path. */
  async publish(channel: LegacyChannel, payload: JsonObject): Promise<string> {
    const name = spoolFileName(channel, payload);
    const final = path.join(this.dir, name);
    const temp = path.join(this.dir, `.${name}.${randomBytes(4).toString('hex')}.tmp`);
    const handle = await fs.open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(JSON.stringify(payload), 'utf8');
      await handle.sync();
    } catch (err) {
      await handle.close();
      await fs.rm(temp, { force: true });
      throw err;
    }
    await handle.close();
    try {
      await fs.rename(temp, final);
    } catch (err) {
      await fs.rm(temp, { force: true });
      throw err;
    }
    return final;
  }
}
