/** A WebSocket test client that records every message and waits for the ones a test expects. */
import WebSocket from 'ws';
import { quietWindow } from './wait.js';

export type Msg = Record<string, any>;

/** How long `next`/`waitClosed` wait before failing: only bounds a failure, so generous for a loaded machine. */
const DEADLINE_MS = 10_000;

export class TestClient {
  readonly messages: Msg[] = [];
  readonly raw: string[] = [];
  closeCode: number | null = null;
  private waiters: Array<() => void> = [];
  private readonly closed: Promise<number>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const text = data.toString();
      this.raw.push(text);
      try {
        this.messages.push(JSON.parse(text));
      } catch {
        this.messages.push({ __raw: text });
      }
      this.wake();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code) => {
      this.closeCode = code;
      this.wake();
      resolve(code);
    }));
    ws.on('error', () => {});
  }

  /** Connect and wait for `connection_success`. */
  /** `localAddress` binds the client's end, e.g. to 127.0.0.2 (also loopback) to be another address. */
  static async connect(url: string, opts: { cookie?: string; origin?: string; headers?: Record<string, string>; localAddress?: string } = {}): Promise<TestClient> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.cookie) headers.cookie = opts.cookie;
    if (opts.origin) headers.origin = opts.origin;
    const ws = new WebSocket(url, { headers, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) });
    const client = new TestClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    await client.next((m) => m.type === 'connection_success');
    return client;
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The first message (received since the last `next`/`clear` cursor) that matches. */
  async next(predicate: (m: Msg) => boolean, timeoutMs = DEADLINE_MS): Promise<Msg> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.messages.findIndex(predicate);
      if (index >= 0) return this.messages.splice(index, 1)[0]!;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for a message; got ${JSON.stringify(this.messages.slice(-5))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(timer); resolve(); });
      });
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

  waitClosed(timeoutMs = DEADLINE_MS): Promise<number> {
    return Promise.race([this.closed, new Promise<number>((_, reject) => setTimeout(() => reject(new Error('not closed in time')), timeoutMs))]);
  }

  close(): void {
    this.ws.close();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/** The connection still gets answers: a ping with `id` comes back as its pong. */
export async function assertStillServed(c: TestClient, id: string, timeoutMs?: number): Promise<void> {
  c.send({ type: 'ping', id });
  await c.next((m) => m.type === 'pong' && m.reply_to === id, timeoutMs);
}
