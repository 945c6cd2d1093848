/**
 * The last delivery path: a spool file the gateway picks up (PROTOCOL.md, "Spool-file fallback").
 * The file is written under a dot-name the gateway ignores, with mode 0600, then renamed into
 * place, so a gateway never sees half a file.
 *
 * Spool files exist for two channels only. A `room_messages` payload for an entity room is written
 * as a `notifications` file with `target: "entity"`, which the gateway routes to the same room
 * (the delivered message then also carries `target`, `entityType` and `entityId`); other rooms have
 * no spool form and the path refuses them.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { LegacyChannel } from '../protocol/constants.js';
import { ENTITY_ROOM_PREFIX } from '../protocol/room-ids.js';
import type { JsonObject } from '../protocol/types.js';

let sequence = 0;

/** PHP's microtime(true) as text, made unique within this process (digits and dots only). */
function microtime(): string {
  const ms = Date.now();
  const seconds = Math.floor(ms / 1000);
  const micros = String((ms % 1000) * 1000 + (sequence = (sequence + 1) % 1000)).padStart(6, '0');
  return `${seconds}.${micros}.${process.pid}${randomBytes(2).readUInt16BE(0)}`;
}

/** The spool file name and content for a channel payload, or an Error saying why there is none. */
export function spoolForm(channel: LegacyChannel, payload: JsonObject): { name: string; payload: JsonObject } | Error {
  const stamp = microtime();
  switch (channel) {
    case 'notifications':
      return { name: `websocket_notification_${stamp}.json`, payload };
    case 'session_messages':
      return { name: `websocket_session_${String(payload.sessionId)}_${stamp}.json`, payload };
    case 'room_messages': {
      const roomId = String(payload.roomId);
      const { entityType, entityId } = payload;
      const isEntity = roomId.startsWith(ENTITY_ROOM_PREFIX) && (typeof entityType === 'string')
        && (typeof entityId === 'string' || typeof entityId === 'number')
        && roomId === `${ENTITY_ROOM_PREFIX}${entityType}_${entityId}`;
      if (!isEntity) return new Error(`room ${roomId}: room messages have no spool-file form except for entity rooms with entityType/entityId; configure Redis or the HTTP publish endpoint`);
      return { name: `websocket_notification_${stamp}.json`, payload: { ...payload, target: 'entity' } };
    }
  }
}

export class SpoolPath {
  /** @param dir the gateway's WSS_SPOOL_DIR (default there: the OS temp folder). */
  constructor(readonly dir: string) {}

  /** Write the file; resolves with its final path. */
  async publish(channel: LegacyChannel, payload: JsonObject): Promise<string> {
    const form = spoolForm(channel, payload);
    if (form instanceof Error) throw form;
    const final = path.join(this.dir, form.name);
    const temp = path.join(this.dir, `.${form.name}.${randomBytes(4).toString('hex')}.tmp`);
    const handle = await fs.open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(JSON.stringify(form.payload), 'utf8');
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
