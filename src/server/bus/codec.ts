/**
 * Wire form of a bus envelope between instances: one header line of JSON, a newline, then the
 * frame exactly as it goes to the browsers. The frame is already serialised JSON; keeping it out
 * of the header means it is neither escaped again by the publisher nor parsed by the receivers.
 *
 *   PWS1 {"o":"gw-a","n":"3f…","r":"entity_resource_42","x":"c1k…","s":"…","q":7,"i":1700000000000}\n{"type":…}
 *
 * `o` origin instance, `n` the publishing process's nonce (spots two instances sharing one id),
 * `t` the message type (for metrics, so receivers need not parse the frame),
 * `r` room id (absent: every connection), `x` excluded connection, `s`/`q` stream and sequence
 * (reserved for history and recovery), `i` ingress time in ms.
 */
import type { BusEnvelope } from './bus.js';

const MAGIC = 'PWS1 ';

interface Header { o: string; n: string; t?: string; r?: string; x?: string; s?: string; q?: number; i?: number }

export interface DecodedEnvelope { envelope: BusEnvelope; nonce: string }

export function encodeEnvelope(envelope: BusEnvelope, nonce: string): string {
  const header: Header = { o: envelope.origin, n: nonce };
  if (envelope.type !== undefined) header.t = envelope.type;
  if (envelope.target.kind === 'room') header.r = envelope.target.roomId;
  if (envelope.exclude !== undefined) header.x = envelope.exclude;
  if (envelope.stream !== undefined) header.s = envelope.stream;
  if (envelope.seq !== undefined) header.q = envelope.seq;
  if (envelope.ingressAt !== undefined) header.i = envelope.ingressAt;
  return `${MAGIC}${JSON.stringify(header)}\n${envelope.frame}`;
}

/** The envelope, or null when the text is not one this version understands. */
export function decodeEnvelope(text: string): DecodedEnvelope | null {
  if (!text.startsWith(MAGIC)) return null;
  const newline = text.indexOf('\n', MAGIC.length);
  if (newline < 0) return null;
  let header: unknown;
  try {
    header = JSON.parse(text.slice(MAGIC.length, newline));
  } catch {
    return null;
  }
  if (!isHeader(header)) return null;
  const envelope: BusEnvelope = {
    origin: header.o,
    target: header.r === undefined ? { kind: 'all' } : { kind: 'room', roomId: header.r },
    frame: text.slice(newline + 1),
  };
  if (header.t !== undefined) envelope.type = header.t;
  if (header.x !== undefined) envelope.exclude = header.x;
  if (header.s !== undefined) envelope.stream = header.s;
  if (header.q !== undefined) envelope.seq = header.q;
  if (header.i !== undefined) envelope.ingressAt = header.i;
  return { envelope, nonce: header.n };
}

function isHeader(h: unknown): h is Header {
  if (typeof h !== 'object' || h === null || Array.isArray(h)) return false;
  const v = h as Record<string, unknown>;
  return typeof v.o === 'string' && typeof v.n === 'string'
    && optional(v.t, 'string') && optional(v.r, 'string') && optional(v.x, 'string') && optional(v.s, 'string')
    && optional(v.q, 'number') && optional(v.i, 'number');
}

function optional(value: unknown, type: 'string' | 'number'): boolean {
  return value === undefined || typeof value === type;
}
