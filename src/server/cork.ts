/**
 * Holding a socket's writes until the end of this event-loop turn, so what several callers write
 * in one turn leaves in one `writev`: a handshake's answer and its greeting.
 */
import type { Writable } from 'node:stream';

/** Cork `stream` until this turn's check phase. An `end()` meanwhile still writes what was corked. */
export function corkUntilNextTurn(stream: Writable): void {
  stream.cork();
  setImmediate(() => stream.uncork());
}
