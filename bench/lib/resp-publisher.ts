/**
 * The benchmark's trigger: Redis `PUBLISH` commands written as raw RESP on one pipelined socket,
 * coalesced per event-loop turn, so publishing thousands of messages per second costs the load
 * generator almost nothing. Replies (the subscriber count) are tallied to catch a server that is
 * not subscribed.
 */
import net from 'node:net';

export class RespPublisher {
  private pending = '';
  private scheduled = false;
  private replyTail = '';
  /** Sum of subscriber counts from PUBLISH replies. */
  receivers = 0;
  replies = 0;

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => this.onReply(text));
    socket.on('error', () => {});
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RespPublisher> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, host);
      socket.once('connect', () => resolve(new RespPublisher(socket)));
      socket.once('error', reject);
    });
  }

  publish(channel: string, message: string): void {
    this.pending += `*3\r\n$7\r\nPUBLISH\r\n$${Buffer.byteLength(channel)}\r\n${channel}\r\n$${Buffer.byteLength(message)}\r\n${message}\r\n`;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  /** How many subscribers `channel` has right now (PUBSUB NUMSUB), for readiness checks. */
  async numsub(channel: string): Promise<number> {
    return Number(await this.probe(['PUBSUB', 'NUMSUB', channel], (text) => /:(\d+)\r\n$/.exec(text)?.[1]));
  }

  /** `INFO <section>` as text. */
  info(section: string): Promise<string> {
    return this.probe(['INFO', section], (text) => {
      const m = /^\$(\d+)\r\n/.exec(text);
      return m && text.length >= m[0].length + Number(m[1]) + 2 ? text.slice(m[0].length, m[0].length + Number(m[1])) : undefined;
    });
  }

  /** One command on a connection of its own (the publishing one stays pipelined); `complete` returns the answer once the reply is whole. */
  private probe(args: string[], complete: (text: string) => string | undefined): Promise<string> {
    return new Promise((resolve, reject) => {
      const probe = net.connect(this.socket.remotePort!, this.socket.remoteAddress!);
      let text = '';
      const timer = setTimeout(() => { probe.destroy(); reject(new Error(`${args[0]} timed out`)); }, 5000);
      probe.setEncoding('latin1');
      probe.on('error', (err) => { clearTimeout(timer); reject(err); });
      probe.on('data', (chunk: string) => {
        text += chunk;
        const answer = complete(text);
        if (answer === undefined) return;
        clearTimeout(timer);
        probe.destroy();
        resolve(answer);
      });
      probe.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
    });
  }

  /** Redis's own CPU seconds so far (INFO cpu: used_cpu_user + used_cpu_sys, main thread and children). */
  async redisCpuSeconds(): Promise<number> {
    const text = await this.info('cpu');
    const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(text)?.[1] ?? 0);
    return field('used_cpu_user') + field('used_cpu_sys');
  }

  close(): void {
    this.socket.destroy();
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const text = this.pending;
    this.pending = '';
    if (text) this.socket.write(text);
  };

  private onReply(text: string): void {
    const all = this.replyTail + text;
    let start = 0;
    for (;;) {
      const nl = all.indexOf('\r\n', start);
      if (nl < 0) break;
      if (all.charCodeAt(start) === 58 /* ':' */) {
        this.receivers += Number(all.slice(start + 1, nl));
        this.replies += 1;
      }
      start = nl + 2;
    }
    this.replyTail = all.slice(start);
  }
}
