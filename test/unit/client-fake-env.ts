/**
 * A fake browser at the client's environment seam (unit tests only): sockets the test opens,
 * feeds and drops by hand, a manual clock, and a record of dispatched events and status views.
 */
import type { ClientEnvironment, SocketLike, StatusView } from '../../src/client/environment.js';

export type Frame = Record<string, any>;

export class FakeSocket implements SocketLike {
  readyState = 0;
  readonly sent: Frame[] = [];
  closeCall: { code?: number; reason?: string } | null = null;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string; wasClean: boolean }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  constructor(readonly url: string) {}

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open');
    this.sent.push(JSON.parse(data));
  }
  close(code?: number, reason?: string): void {
    this.closeCall = { code, reason };
    if (this.readyState < 2) this.readyState = 2;
  }
  // ---- the "server" side ----
  accept(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(message: Frame | string): void {
    this.onmessage?.({ data: typeof message === 'string' ? message : JSON.stringify(message) });
  }
  /** The connection ends (1006 = lost without a close frame). */
  end(code = 1006, reason = '', wasClean = false): void {
    this.readyState = 3;
    this.onerror?.({});
    this.onclose?.({ code, reason, wasClean });
  }
}

interface Timer { id: number; at: number; fn: () => void; every: number | null }

export class FakeEnv implements ClientEnvironment {
  now = 0;
  readonly sockets: FakeSocket[] = [];
  readonly events: Array<{ type: string; detail: unknown }> = [];
  readonly statuses: StatusView[] = [];
  readonly logs: unknown[][] = [];
  readonly delays: number[] = [];
  userIdOnPage: string | number | null = null;
  randomValue = 1;
  private onlineListeners = new Set<() => void>();
  private timers = new Map<number, Timer>();
  private nextId = 1;

  defaultUrl(): string { return 'ws://page.example/wss'; }
  createSocket(url: string): SocketLike {
    const socket = new FakeSocket(url);
    this.sockets.push(socket);
    return socket;
  }
  dispatch(type: string, detail: unknown): void { this.events.push({ type, detail }); }
  onOnline(listener: () => void): () => void {
    this.onlineListeners.add(listener);
    return () => this.onlineListeners.delete(listener);
  }
  showStatus(view: StatusView): void { this.statuses.push(view); }
  findUserId(): string | number | null { return this.userIdOnPage; }
  setTimeout(fn: () => void, ms: number): unknown { this.delays.push(ms); return this.add(fn, ms, null); }
  clearTimeout(handle: unknown): void { this.timers.delete(handle as number); }
  setInterval(fn: () => void, ms: number): unknown { return this.add(fn, ms, ms); }
  clearInterval(handle: unknown): void { this.timers.delete(handle as number); }
  random(): number { return this.randomValue; }
  log(...args: unknown[]): void { this.logs.push(args); }

  // ---- test controls ----
  get socket(): FakeSocket {
    const last = this.sockets[this.sockets.length - 1];
    if (!last) throw new Error('no socket yet');
    return last;
  }
  get activeTimers(): number { return this.timers.size; }
  get onlineListenerCount(): number { return this.onlineListeners.size; }
  goOnline(): void { for (const l of [...this.onlineListeners]) l(); }
  named(type: string): unknown[] { return this.events.filter((e) => e.type === type).map((e) => e.detail); }
  get status(): StatusView | undefined { return this.statuses[this.statuses.length - 1]; }

  /** Move the clock forward, running due timers in order. */
  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      const due = [...this.timers.values()].filter((t) => t.at <= until).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.now = due.at;
      if (due.every === null) this.timers.delete(due.id);
      else due.at += due.every;
      due.fn();
    }
    this.now = until;
  }

  private add(fn: () => void, ms: number, every: number | null): number {
    const id = this.nextId++;
    this.timers.set(id, { id, at: this.now + ms, fn, every });
    return id;
  }
}
