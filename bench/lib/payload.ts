/**
 * The benchmark message: a PHP-helper-shaped notification of about 200 bytes carrying
 * `"bench":[seq,sentMicros]`, which the load generator finds with one `indexOf` and two digit
 * loops instead of parsing the JSON.
 */
export const BENCH_MARKER = Buffer.from('"bench":[');
export const TARGET_BYTES = 200;

const timestamp = '2025-01-01T12:00:00.000Z';

/** A broadcast notification (no `target`), padded to about TARGET_BYTES. */
export function broadcastPayload(seq: number, sentUs: number): string {
  return pad(`{"type":"notification","message":"New booking created","bench":[${seq},${sentUs}],"timestamp":"${timestamp}","data":{"id":${seq},"pad":"`, '"}}');
}

/** A session-targeted notification for one client (docs/protocol.md: `target: "session"`). */
export function sessionPayload(seq: number, sentUs: number, sessionId: string): string {
  return pad(`{"type":"notification","target":"session","sessionId":"${sessionId}","message":"Your application was updated","bench":[${seq},${sentUs}],"timestamp":"${timestamp}","data":{"pad":"`, '"}}');
}

function pad(head: string, tail: string): string {
  const fill = Math.max(0, TARGET_BYTES - head.length - tail.length);
  return head + 'x'.repeat(fill) + tail;
}

/** Session id of load-generator connection `index` (also its cookie value). */
export const benchSessionId = (runTag: string, index: number): string => `bench${runTag}${index.toString(36).padStart(4, '0')}`;

/**
 * Reads `[seq,sentUs]` after the marker in buf[start, end). Returns seq, and puts sentUs in
 * `out[0]`; -1 when the frame carries no marker.
 */
export function readBench(buf: Buffer, start: number, end: number, out: Float64Array): number {
  let i = buf.indexOf(BENCH_MARKER, start);
  if (i < 0 || i >= end) return -1;
  i += BENCH_MARKER.length;
  let seq = 0;
  for (let c = buf[i]!; c >= 48 && c <= 57; c = buf[++i]!) seq = seq * 10 + (c - 48);
  i += 1;
  let ts = 0;
  for (let c = buf[i]!; c >= 48 && c <= 57; c = buf[++i]!) ts = ts * 10 + (c - 48);
  out[0] = ts;
  return seq;
}
