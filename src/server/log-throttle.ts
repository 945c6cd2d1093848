/**
 * "Once per key per window" for log lines a client can provoke at will (a refused Origin, an
 * address over its cap, a flooding connection). The first line for a key is written; repeats
 * within the window are held back and their count goes out with the next line for that key.
 * Besides the per-key rule, at most `maxLinesPerWindow` lines per window are written in total, so
 * a client inventing keys (a new Origin per request) cannot flood the log either; and at most
 * `maxKeys` keys are remembered, oldest forgotten first, so it cannot grow memory.
 */
export interface ThrottleOptions {
  windowMs?: number;
  maxLinesPerWindow?: number;
  maxKeys?: number;
}

interface KeyState { at: number; held: number }

export class KeyedThrottle {
  private readonly windowMs: number;
  private readonly maxLines: number;
  private readonly maxKeys: number;
  /** Insertion order is the order of the last written line, so the first entries are the oldest. */
  private readonly keys = new Map<string, KeyState>();
  private windowStart = 0;
  private linesInWindow = 0;
  private heldOverall = 0;

  constructor(options: ThrottleOptions = {}) {
    this.windowMs = options.windowMs ?? 60_000;
    this.maxLines = options.maxLinesPerWindow ?? 50;
    this.maxKeys = options.maxKeys ?? 10_000;
  }

  /**
   * Whether to write the line for `key` now. Returns null to hold it back, else how many lines
   * were held back since the last one written (for this key, plus those held by the total cap).
   */
  take(key: string, now = Date.now()): number | null {
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.linesInWindow = 0;
    }
    const state = this.keys.get(key);
    if (state && now - state.at < this.windowMs) {
      state.held += 1;
      return null;
    }
    if (this.linesInWindow >= this.maxLines) {
      this.heldOverall += 1;
      return null;
    }
    this.linesInWindow += 1;
    const held = (state?.held ?? 0) + this.heldOverall;
    this.heldOverall = 0;
    this.keys.delete(key);
    this.forgetOldest(now);
    this.keys.set(key, { at: now, held: 0 });
    return held;
  }

  private forgetOldest(now: number): void {
    for (const [key, state] of this.keys) {
      if (this.keys.size < this.maxKeys && now - state.at < this.windowMs) return;
      this.keys.delete(key);
    }
  }
}
