/**
 * Spool file names and reading one spool entry safely. The spool folder is often `/tmp`, where
 * anyone on the host can create entries, so an entry is opened without following a symbolic link
 * and without blocking (a FIFO would otherwise hold the reader until someone writes to it), and
 * is read only when it is a regular file with no other hard link and at most `maxBytes` long.
 */
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { LegacyChannel } from '../../protocol/constants.js';
import { maskSessionId } from '../../protocol/room-ids.js';

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

const STAMP = /_(\d+)(?:\.([\d.]*))?\.json$/;

/**
 * Order of delivery: by the microtime stamp that ends every spool name (so notifications and
 * session messages keep the order they were written in), then by name.
 */
export function compareSpoolNames(a: string, b: string): number {
  const sa = STAMP.exec(a);
  const sb = STAMP.exec(b);
  if (sa && sb) {
    const [ia, ib] = [sa[1]!.replace(/^0+/, ''), sb[1]!.replace(/^0+/, '')];
    if (ia.length !== ib.length) return ia.length - ib.length;
    if (ia !== ib) return ia < ib ? -1 : 1;
    // Decimal fractions compare as text, digit by digit.
    const [fa, fb] = [sa[2] ?? '', sb[2] ?? ''];
    if (fa !== fb) return fa < fb ? -1 : 1;
  } else if (sa || sb) {
    return sa ? -1 : 1;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Session spool file names contain the session id: mask it before logging. */
export function redactName(name: string): string {
  const base = path.basename(name);
  const session = SESSION_FILE.exec(base.split('@')[0] ?? base);
  return session ? base.replace(session[1]!, maskSessionId(session[1]!)!) : base;
}

export type SpoolRead =
  | { kind: 'text'; text: string; mtimeMs: number }
  /** Never to be read: the reason says why (logged; the entry goes to failed/). */
  | { kind: 'rejected'; reason: string }
  /** No longer there (another instance moved it). */
  | { kind: 'gone' };

// O_NONBLOCK: opening a FIFO for reading returns at once instead of waiting for a writer; it
// has no effect on regular files. O_NOFOLLOW: a symbolic link fails with ELOOP.
const OPEN_FLAGS = fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK;

export async function readSpoolEntry(file: string, maxBytes: number): Promise<SpoolRead> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, OPEN_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'gone' };
    if (code === 'ELOOP') return { kind: 'rejected', reason: 'a symbolic link (never followed)' };
    return { kind: 'rejected', reason: `cannot be opened (${code ?? (err as Error).message})` };
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return { kind: 'rejected', reason: `not a regular file (${describeType(stat)})` };
    if (stat.nlink > 1) return { kind: 'rejected', reason: `has ${stat.nlink} hard links (a link to another file is never read)` };
    if (stat.size > maxBytes) return { kind: 'rejected', reason: `${stat.size} bytes, more than WSS_SPOOL_MAX_BYTES (${maxBytes})` };
    // Read at most one byte past the cap: a file still growing must not be read without bound.
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > maxBytes) return { kind: 'rejected', reason: `more than WSS_SPOOL_MAX_BYTES (${maxBytes}) bytes` };
    return { kind: 'text', text: buffer.toString('utf8', 0, length), mtimeMs: stat.mtimeMs };
  } finally {
    await handle.close();
  }
}

function describeType(stat: { isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  return 'unknown type';
}
