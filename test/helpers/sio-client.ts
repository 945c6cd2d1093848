/**
 * A socket.io-client test client shaped like TestClient: records every `message` event and
 * waits for the ones a test expects. Connects the way PorticoEstate's socketio-context.tsx does
 * (path /wss/socket.io, `message` events both ways), with the transports a test picks.
 */
import { io, type Socket } from 'socket.io-client';
import { DEADLINE_MS, MessageRecorder, type Msg } from './recorder.js';

export type SioTransports = Array<'polling' | 'websocket'>;

export interface SioConnectOptions {
  cookie?: string;
  origin?: string;
  transports?: SioTransports;
  path?: string;
  query?: Record<string, string>;
  /** Wait for this message type after connecting (default `connection_success`; null: only the connect). */
  until?: string | null;
}

export class SioTestClient extends MessageRecorder {
  /** Every message received, in order, never taken by `next`. */
  readonly all: Msg[] = [];
  disconnectReason: string | null = null;

  private constructor(readonly socket: Socket) {
    super();
    socket.on('message', (m: Msg) => {
      this.all.push(m);
      this.record(m);
    });
    socket.on('disconnect', (reason) => {
      this.disconnectReason = reason;
      this.wake();
    });
  }

  /** Connect to `httpUrl` (http://host:port) and wait for `connection_success`. */
  static async connect(httpUrl: string, opts: SioConnectOptions = {}): Promise<SioTestClient> {
    const headers: Record<string, string> = {};
    if (opts.cookie) headers.cookie = opts.cookie;
    if (opts.origin) headers.origin = opts.origin;
    const socket = io(httpUrl, {
      path: opts.path ?? '/wss/socket.io',
      transports: opts.transports ?? ['polling', 'websocket'],
      withCredentials: true,
      reconnection: false,
      extraHeaders: headers,
      query: opts.query,
      forceNew: true,
    });
    const client = new SioTestClient(socket);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('Socket.IO connect timed out')), DEADLINE_MS);
      socket.once('connect', () => { clearTimeout(timer); resolve(); });
      socket.once('connect_error', (err) => { clearTimeout(timer); socket.close(); reject(err); });
    });
    const until = opts.until === undefined ? 'connection_success' : opts.until;
    if (until !== null) await client.ofType(until);
    return client;
  }

  /** The transport in use now ('polling' or 'websocket'). */
  get transport(): string {
    return this.socket.io.engine.transport.name;
  }

  send(message: unknown): void {
    this.socket.emit('message', message);
  }

  /** Wait until the server disconnected this client; resolves with Socket.IO's reason. */
  async waitDisconnected(timeoutMs = DEADLINE_MS): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.disconnectReason === null) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('not disconnected in time');
      await this.changed(left);
    }
    return this.disconnectReason;
  }

  close(): void {
    this.socket.close();
  }
}
