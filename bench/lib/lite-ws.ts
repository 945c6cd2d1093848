/**
 * A minimal WebSocket client for the load generator: raw `net` sockets, the upgrade written by
 * hand, server frames parsed in place (no per-frame allocation, no JSON), pings answered, and
 * the Engine.IO/Socket.IO handshake (`0` → `40`, `2` → `3`) when speaking to Socket.IO. One
 * process holds 10,000 of these on one core.
 */
import net from 'node:net';

export type Dialect = 'ws' | 'socketio';

/** What the pool does with frames; implemented by the load generator. */
export interface FrameSink {
  /** A text frame's payload is buf[start, end); `nowUs` is when its chunk arrived. */
  text(conn: LiteSocket, buf: Buffer, start: number, end: number, nowUs: number): void;
  closed(conn: LiteSocket, reason: string): void;
}

const GREETING = Buffer.from('connection_success');
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const SIO_CONNECT = maskedText('40');
const SIO_PONG = maskedText('3');

/** A client text frame with a zero mask key (valid framing; the payload stays as is). */
export function maskedText(text: string): Buffer {
  const payload = Buffer.from(text);
  const n = payload.length;
  const head = n < 126 ? Buffer.from([0x81, 0x80 | n])
    : n < 65_536 ? Buffer.from([0x81, 0x80 | 126, n >> 8, n & 0xff])
    : Buffer.from([0x81, 0x80 | 127, 0, 0, 0, 0, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
  return Buffer.concat([head, Buffer.from([0, 0, 0, 0]), payload]);
}

function maskedControl(opcode: number, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | Math.min(payload.length, 125), 0, 0, 0, 0]), payload.subarray(0, 125)]);
}

export class LiteSocket {
  upgraded = false;
  /** Set when the server's greeting (`connection_success`) arrived: the handshake is complete. */
  ready = false;
  closed = false;
  private rest: Buffer | null = null;
  onReady: (() => void) | null = null;
  /** Called once the server accepted the upgrade (the browser's `onopen`). */
  onUpgraded: (() => void) | null = null;

  constructor(readonly socket: net.Socket, readonly dialect: Dialect, readonly index: number, private readonly sink: FrameSink) {}

  static open(opts: { port: number; path: string; cookie?: string; dialect: Dialect; index: number; sink: FrameSink }): LiteSocket {
    const socket = net.connect(opts.port, '127.0.0.1');
    const conn = new LiteSocket(socket, opts.dialect, opts.index, opts.sink);
    socket.setNoDelay(true);
    socket.once('connect', () => {
      socket.write(
        `GET ${opts.path} HTTP/1.1\r\nHost: 127.0.0.1:${opts.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n${opts.cookie ? `Cookie: ${opts.cookie}\r\n` : ''}\r\n`,
      );
    });
    socket.on('data', (chunk: Buffer) => conn.onData(chunk));
    socket.on('error', (err) => conn.fail(err.message));
    socket.on('close', () => conn.fail('closed'));
    return conn;
  }

  /** Send a text frame (e.g. `recover`). */
  send(text: string): void {
    if (!this.closed) this.socket.write(maskedText(text));
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }

  fail(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.sink.closed(this, reason);
  }

  private onData(chunk: Buffer): void {
    const nowUs = performance.now() * 1000;
    let buf = chunk;
    if (this.rest) {
      buf = Buffer.concat([this.rest, chunk]);
      this.rest = null;
    }
    if (!this.upgraded) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buf.length > 16_384) return this.fail('oversized upgrade response');
        this.rest = buf;
        return;
      }
      const status = buf.toString('latin1', 0, buf.indexOf('\r\n'));
      if (!status.startsWith('HTTP/1.1 101')) return this.fail(`upgrade refused: ${status}`);
      this.upgraded = true;
      this.onUpgraded?.();
      buf = buf.subarray(end + 4);
    }
    const len = buf.length;
    let off = 0;
    while (len - off >= 2) {
      const b0 = buf[off]!;
      const b1 = buf[off + 1]!;
      let plen = b1 & 0x7f;
      let hl = 2;
      if (plen === 126) {
        if (len - off < 4) break;
        plen = buf.readUInt16BE(off + 2);
        hl = 4;
      } else if (plen === 127) {
        if (len - off < 10) break;
        plen = buf.readUInt32BE(off + 2) * 2 ** 32 + buf.readUInt32BE(off + 6);
        hl = 10;
      }
      if (b1 & 0x80) return this.fail('server sent a masked frame');
      const start = off + hl;
      const end = start + plen;
      if (end > len) break;
      const opcode = b0 & 0x0f;
      if (opcode === 1 || opcode === 2 || opcode === 0) this.onText(buf, start, end, nowUs);
      else if (opcode === 9) this.socket.write(maskedControl(0x0a, buf.subarray(start, end)));
      else if (opcode === 8) return this.fail('server closed');
      off = end;
    }
    if (off < len) this.rest = buf.subarray(off);
  }

  private onText(buf: Buffer, start: number, end: number, nowUs: number): void {
    if (this.dialect === 'socketio') {
      const first = buf[start];
      if (first === 0x32 /* '2' ping */ && end - start === 1) return void this.socket.write(SIO_PONG);
      if (first === 0x30 /* '0' open */) return void this.socket.write(SIO_CONNECT);
    }
    if (!this.ready) {
      const g = buf.indexOf(GREETING, start);
      if (g >= 0 && g < end) {
        this.ready = true;
        this.onReady?.();
      }
      return;
    }
    this.sink.text(this, buf, start, end, nowUs);
  }
}
