/** A WebSocket test client that records every message and waits for the ones a test expects. */
import WebSocket from 'ws';
import { DEADLINE_MS, MessageRecorder, type Msg } from './recorder.js';

export type { Msg } from './recorder.js';

export class TestClient extends MessageRecorder {
  readonly raw: string[] = [];
  closeCode: number | null = null;
  private readonly closed: Promise<number>;

  private constructor(readonly ws: WebSocket) {
    super();
    ws.on('message', (data) => {
      const text = data.toString();
      this.raw.push(text);
      let message: Msg;
      try {
        message = JSON.parse(text);
      } catch {
        message = { __raw: text };
      }
      this.record(message);
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

  waitClosed(timeoutMs = DEADLINE_MS): Promise<number> {
    return Promise.race([this.closed, new Promise<number>((_, reject) => setTimeout(() => reject(new Error('not closed in time')), timeoutMs))]);
  }

  close(): void {
    this.ws.close();
  }
}

/** The connection still gets answers: a ping with `id` comes back as its pong. */
export async function assertStillServed(c: TestClient, id: string, timeoutMs?: number): Promise<void> {
  c.send({ type: 'ping', id });
  await c.next((m) => m.type === 'pong' && m.reply_to === id, timeoutMs);
}
