/**
 * Wire form of a publication between instances: one header line of JSON, a newline, then the
 * frame exactly as it goes to the browsers. The frame is already serialised JSON; keeping it out
 * of the header means it is neither escaped again by the publisher nor parsed by the receivers.
 *
 *   PWS1 {"o":"gw-a","n":"3f…","d":17,"r":"entity_resource_42","x":"c1k…","i":1700000000000,"s":"entity_resource_42","q":7,"e":"k2…"}\n{"type":…,"stream_position":…}
 *
 * `o` origin instance, `n` the publishing process's nonce (spots two instances sharing one id),
 * `d` the publication's sequence number at its origin (with `n`: its id), `t` the message type,
 * `r` room id (absent: every connection), `x` excluded connection, `i` ingress time in ms,
 * `l` 1 when the origin already delivered it to its own clients, `c` a legacy message's claim,
 * and for a publication in history
 * `s`/`q`/`e` its stream, offset and epoch. The Redis publish script appends `q` and `e` itself
 * (it assigns them), which is why the header is built as an open prefix.
 *
 * The publish script sends what one call published as one message: `PWSB`, then each envelope on
 * its two lines. A frame is JSON text from JSON.stringify, which never holds a raw newline, so
 * the lines cannot be confused.
 */
import type { Publication, StreamPoint } from './broker.js';

const MAGIC = 'PWS1 ';
/** Starts a bus message holding several envelopes, one per line pair. */
export const BATCH_MAGIC = 'PWSB';

interface Header {
  o: string; n: string; d?: number; t?: string; r?: string; x?: string; i?: number; l?: 1; c?: string;
  s?: string; q?: number; e?: string;
}

export interface EnvelopeMeta {
  nonce: string;
  seq: number;
  /** The origin delivered it to its own clients already. */
  deliveredAtOrigin: boolean;
  /** For a legacy-channel message: its claim (`key:occurrence`), which every instance can name. */
  claim?: string;
}

export interface DecodedEnvelope extends EnvelopeMeta { publication: Publication }

/**
 * The header without its closing brace: the caller (or the Redis script, which adds the position)
 * closes it, then appends `\n` and the frame.
 */
export function headerPrefix(publication: Omit<Publication, 'frame' | 'position'> & { stream?: string }, meta: EnvelopeMeta): string {
  const header: Header = { o: publication.origin, n: meta.nonce, d: meta.seq };
  if (publication.type !== undefined) header.t = publication.type;
  if (publication.target.kind === 'room') header.r = publication.target.roomId;
  if (publication.exclude !== undefined) header.x = publication.exclude;
  if (publication.ingressAt !== undefined) header.i = publication.ingressAt;
  if (meta.deliveredAtOrigin) header.l = 1;
  if (meta.claim !== undefined) header.c = meta.claim;
  if (publication.stream !== undefined) header.s = publication.stream;
  const json = JSON.stringify(header);
  return `${MAGIC}${json.slice(0, -1)}`;
}

/** A complete envelope (no position, or one already known). */
export function encodeEnvelope(publication: Publication, meta: EnvelopeMeta): string {
  const prefix = headerPrefix({ ...publication, stream: publication.position?.stream }, meta);
  const position = publication.position ? `,"q":${publication.position.offset},"e":${JSON.stringify(publication.position.epoch)}` : '';
  return `${prefix}${position}}\n${publication.frame}`;
}

/** The envelope, or null when the text is not one this version understands. */
export function decodeEnvelope(text: string): DecodedEnvelope | null {
  if (!text.startsWith(MAGIC)) return null;
  const newline = text.indexOf('\n', MAGIC.length);
  if (newline < 0) return null;
  return decodeParts(text.slice(MAGIC.length, newline), text.slice(newline + 1));
}

/**
 * The envelopes of a bus message (one, or a batch), in order; null when the message, or any
 * envelope in it, is not one this version understands.
 */
export function decodeBusMessage(text: string): DecodedEnvelope[] | null {
  if (!text.startsWith(BATCH_MAGIC + '\n')) {
    const one = decodeEnvelope(text);
    return one ? [one] : null;
  }
  const lines = text.split('\n');
  if (lines.length % 2 === 0) return null;
  const envelopes: DecodedEnvelope[] = [];
  for (let i = 1; i < lines.length; i += 2) {
    const header = lines[i]!;
    if (!header.startsWith(MAGIC)) return null;
    const decoded = decodeParts(header.slice(MAGIC.length), lines[i + 1]!);
    if (!decoded) return null;
    envelopes.push(decoded);
  }
  return envelopes;
}

function decodeParts(headerText: string, frame: string): DecodedEnvelope | null {
  let header: unknown;
  try {
    header = JSON.parse(headerText);
  } catch {
    return null;
  }
  if (!isHeader(header)) return null;
  const publication: Publication = {
    origin: header.o,
    target: header.r === undefined ? { kind: 'all' } : { kind: 'room', roomId: header.r },
    frame,
  };
  if (header.t !== undefined) publication.type = header.t;
  if (header.x !== undefined) publication.exclude = header.x;
  if (header.i !== undefined) publication.ingressAt = header.i;
  if (header.s !== undefined && header.q !== undefined && header.e !== undefined) {
    publication.position = { stream: header.s, offset: header.q, epoch: header.e } satisfies StreamPoint;
  }
  const decoded: DecodedEnvelope = { publication, nonce: header.n, seq: header.d ?? 0, deliveredAtOrigin: header.l === 1 };
  if (header.c !== undefined) decoded.claim = header.c;
  return decoded;
}

function isHeader(h: unknown): h is Header {
  if (typeof h !== 'object' || h === null || Array.isArray(h)) return false;
  const v = h as Record<string, unknown>;
  return typeof v.o === 'string' && typeof v.n === 'string'
    && optional(v.d, 'number') && optional(v.t, 'string') && optional(v.r, 'string') && optional(v.x, 'string')
    && optional(v.i, 'number') && optional(v.l, 'number') && optional(v.c, 'string') && optional(v.s, 'string') && optional(v.q, 'number') && optional(v.e, 'string');
}

function optional(value: unknown, type: 'string' | 'number'): boolean {
  return value === undefined || typeof value === type;
}
