/**
 * The load generator's view of recovery (docs/protocol.md, "Recovery") without parsing JSON per message:
 * finds `"stream_position":{"stream":"…","offset":n,"epoch":"…"}` in a frame with `indexOf` and
 * a digit loop, and builds the `recover` frame the browser client sends after a reconnect.
 */
const FIELD = Buffer.from('"stream_position":{');
const STREAM = Buffer.from('"stream":"');
const OFFSET = Buffer.from('"offset":');
const EPOCH = Buffer.from('"epoch":"');
const QUOTE = 0x22;
const CLOSE = 0x7d; // '}'

/** Where the parts of a frame's position are: byte ranges into the frame's buffer, the offset as a number. */
export interface PositionRef { streamStart: number; streamEnd: number; offset: number; epochStart: number; epochEnd: number }

export const emptyPositionRef = (): PositionRef => ({ streamStart: 0, streamEnd: 0, offset: -1, epochStart: 0, epochEnd: 0 });

/** Fill `out` from the frame buf[start, end); false when the frame carries no position. */
export function findStreamPosition(buf: Buffer, start: number, end: number, out: PositionRef): boolean {
  const at = buf.indexOf(FIELD, start);
  if (at < 0 || at >= end) return false;
  const objStart = at + FIELD.length;
  const objEnd = buf.indexOf(CLOSE, objStart);
  if (objEnd < 0 || objEnd >= end) return false;
  const s = buf.indexOf(STREAM, objStart);
  const o = buf.indexOf(OFFSET, objStart);
  const e = buf.indexOf(EPOCH, objStart);
  if (s < 0 || s > objEnd || o < 0 || o > objEnd || e < 0 || e > objEnd) return false;
  out.streamStart = s + STREAM.length;
  out.streamEnd = buf.indexOf(QUOTE, out.streamStart);
  out.epochStart = e + EPOCH.length;
  out.epochEnd = buf.indexOf(QUOTE, out.epochStart);
  let i = o + OFFSET.length;
  let offset = 0;
  for (let c = buf[i]!; c >= 48 && c <= 57; c = buf[++i]!) offset = offset * 10 + (c - 48);
  out.offset = offset;
  return true;
}

/** True when the position's stream id equals `stream` (compared in place, no string made). */
export function streamIs(buf: Buffer, ref: PositionRef, stream: Buffer): boolean {
  return ref.streamEnd - ref.streamStart === stream.length && buf.compare(stream, 0, stream.length, ref.streamStart, ref.streamEnd) === 0;
}

/** The `recover` frame for the given last positions, as the browser client writes it. */
export function recoverFrame(streams: Record<string, { offset: number; epoch: string }>): string {
  return JSON.stringify({ type: 'recover', streams });
}
