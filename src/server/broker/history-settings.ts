/** How much history each stream keeps (WSS_HISTORY_SIZE, WSS_HISTORY_TTL_S, WSS_HISTORY_META_TTL_S). */
export interface HistorySettings {
  /** Publications kept per stream; 0 turns history (and positions) off. */
  size: number;
  /** A stream with no publication for this long forgets its publications. */
  ttlMs: number;
  /** A stream's offset and epoch are kept this long after its last publication (>= ttlMs). */
  metaTtlMs: number;
}

/** This process's part of every epoch it makes: random, and the time it started. */
const EPOCH_TAG = Math.floor(Math.random() * 2 ** 48).toString(36) + Date.now().toString(36);
let epochCount = 0;

/**
 * A new epoch, never made before by any process: this process's tag and a count. Each publish
 * script is offered one (it is used only when the stream starts again), so it must be cheap.
 */
export const newEpoch = (): string => EPOCH_TAG + (++epochCount).toString(36);

export function historySettings(delivery: { historySize: number; historyTtlMs: number; historyMetaTtlMs: number }): HistorySettings {
  return { size: delivery.historySize, ttlMs: delivery.historyTtlMs, metaTtlMs: delivery.historyMetaTtlMs };
}
