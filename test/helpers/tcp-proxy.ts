/**
 * A TCP forwarder on 127.0.0.1 in front of a real server (PostgreSQL in the tests), to play a
 * server that hangs without answering: `freeze()` holds every byte in both directions (new
 * connections are accepted and then left waiting), `thaw()` lets everything through again.
 * It can also be started late on a chosen port, to play a server that comes up after the gateway.
 */
import net from 'node:net';

export interface TcpProxy {
  port: number;
  freeze(): void;
  thaw(): void;
  close(): Promise<void>;
}

interface Pair { client: net.Socket; upstream: net.Socket | null; held: Array<{ to: 'client' | 'upstream'; data: Buffer }> }

export async function startTcpProxy(target: { host: string; port: number }, port = 0): Promise<TcpProxy> {
  let frozen = false;
  const pairs = new Set<Pair>();

  const forward = (pair: Pair, to: 'client' | 'upstream', data: Buffer) => {
    const socket = to === 'client' ? pair.client : pair.upstream;
    if (frozen || socket === null) pair.held.push({ to, data });
    else socket.write(data);
  };
  const connectUpstream = (pair: Pair) => {
    const upstream = net.connect(target.port, target.host);
    pair.upstream = upstream;
    upstream.on('data', (d) => forward(pair, 'client', d));
    upstream.on('error', () => pair.client.destroy());
    upstream.on('close', () => pair.client.destroy());
    flush(pair);
  };
  const flush = (pair: Pair) => {
    for (const { to, data } of pair.held.splice(0)) forward(pair, to, data);
  };

  const server = net.createServer((client) => {
    const pair: Pair = { client, upstream: null, held: [] };
    pairs.add(pair);
    client.on('data', (d) => forward(pair, 'upstream', d));
    client.on('error', () => pair.upstream?.destroy());
    client.on('close', () => { pair.upstream?.destroy(); pairs.delete(pair); });
    if (!frozen) connectUpstream(pair);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    freeze() { frozen = true; },
    thaw() {
      frozen = false;
      for (const pair of pairs) {
        if (pair.upstream === null) connectUpstream(pair);
        else flush(pair);
      }
    },
    async close() {
      for (const pair of pairs) { pair.client.destroy(); pair.upstream?.destroy(); }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
