/**
 * A warning logger that writes at most `perWindow` lines per `windowMs` (defaults 5 per 60 s) and
 * then one line saying how many it held back, so a stream of bad payloads cannot flood the log.
 */
import type { Logger } from '../log.js';

export class ThrottledLog {
  private windowStart = 0;
  private written = 0;
  private suppressed = 0;

  constructor(private readonly log: Logger, private readonly perWindow = 5, private readonly windowMs = 60_000) {}

  warn(fields: object, message: string, now = Date.now()): void {
    if (now - this.windowStart >= this.windowMs) {
      this.flush();
      this.windowStart = now;
      this.written = 0;
    }
    if (this.written < this.perWindow) {
      this.written += 1;
      this.log.warn(fields, message);
    } else {
      this.suppressed += 1;
    }
  }

  /** Report what was held back (called on window change and on close). */
  flush(): void {
    if (this.suppressed === 0) return;
    this.log.warn({ suppressed: this.suppressed }, 'similar warnings suppressed');
    this.suppressed = 0;
  }
}
