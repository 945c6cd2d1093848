/**
 * Holding a stream's writes until the end of this event-loop turn, so what several callers write
 * in one turn leaves in one `writev`. Used for a handshake's answer and greeting (one client
 * socket) and for a burst of Redis commands (the publisher connection).
 */
import type { Writable } from 'node:stream';

/**
 * Cork `stream` until this turn's check phase; `then` runs after the uncork. An `end()` meanwhile
 * still writes what was corked.
 */
export function corkUntilNextTurn(stream: Writable, then?: () => void): void {
  stream.cork();
  setImmediate(() => {
    stream.uncork();
    then?.();
  });
}
