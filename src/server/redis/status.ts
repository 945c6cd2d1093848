/**
 * Connection states as explicit unions, changed only through `set`, which reports each real
 * transition once (`from -> to`) — repeated failures while already down report nothing, so a
 * long outage does not flood the log.
 */

/** One Redis connection: `ready` means usable (for the subscriber: subscribed to every channel). */
export type RedisConnectionStatus = 'connecting' | 'ready' | 'down' | 'closed';

export type TransitionListener<S extends string> = (from: S, to: S) => void;

export class StatusCell<S extends string> {
  private listeners: TransitionListener<S>[] = [];

  constructor(private current: S) {}

  get value(): S {
    return this.current;
  }

  /** Move to `to`; listeners run only when the status actually changes. Returns whether it did. */
  set(to: S): boolean {
    const from = this.current;
    if (from === to) return false;
    this.current = to;
    for (const listener of this.listeners) listener(from, to);
    return true;
  }

  onChange(listener: TransitionListener<S>): void {
    this.listeners.push(listener);
  }
}
