/** What every test client shares: the messages it received, and waiting for the ones a test expects. */
import { quietWindow } from './wait.js';

export type Msg = Record<string, any>;

/** How long waits fail after: only bounds a failure, so generous for a loaded machine. */
export const DEADLINE_MS = 10_000;

export class MessageRecorder {
  /** Received and not yet taken by `next`. */
  readonly messages: Msg[] = [];
  private waiters: Array<() => void> = [];

  protected record(message: Msg): void {
    this.messages.push(message);
    this.wake();
  }

  /** The first message (received since the last `next`/`clear` cursor) that matches. */
  async next(predicate: (m: Msg) => boolean, timeoutMs = DEADLINE_MS): Promise<Msg> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.messages.findIndex(predicate);
      if (index >= 0) return this.messages.splice(index, 1)[0]!;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for a message; got ${JSON.stringify(this.messages.slice(-5))}`);
      await this.changed(left);
    }
  }

  ofType(type: string, timeoutMs?: number): Promise<Msg> {
    return this.next((m) => m.type === type, timeoutMs);
  }

  /**
   * Resolves true if no matching message has arrived by the end of a short "nothing else
   * arrived" window of `ms` (see quietWindow in wait.ts): for absence, never to wait for an event.
   */
  async expectNone(predicate: (m: Msg) => boolean, ms = 300): Promise<boolean> {
    await quietWindow(ms);
    return !this.messages.some(predicate);
  }

  count(predicate: (m: Msg) => boolean): number {
    return this.messages.filter(predicate).length;
  }

  /** Resolves when something was recorded or changed (`wake`), or after `ms`. */
  protected changed(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.waiters.push(() => { clearTimeout(timer); resolve(); });
    });
  }

  protected wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
