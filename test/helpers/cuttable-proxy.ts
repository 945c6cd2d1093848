/**
 * A TCP proxy on 127.0.0.1 that a test can cut (every open connection reset, new ones closed at
 * once: what a page sees when Wi-Fi drops) and restore, optionally towards another port (a
 * reconnect landing on another gateway instance).
 */
import net from 'node:net';

export interface TcpProxy {
  port: number;
  /** Where new connections go. */
  readonly targetPort: number;
  /** Open client connections right now. */
  readonly open: number;
  /** Connections accepted while cut (and closed at once). */
  readonly refused: number;
  cut(): void;
  restore(targetPort?: number): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let target = targetPort;
  let isCut = false;
  let refused = 0;
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();

  const server = net.createServer((client) => {
    if (isCut) {
      refused += 1;
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(target, '127.0.0.1');
    const pair = { client, upstream };
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;

  return {
    port,
    get targetPort() { return target; },
    get open() { return pairs.size; },
    get refused() { return refused; },
    cut() {
      isCut = true;
      // Reset both sides: no close frame reaches the browser or the gateway, as on a dead network.
      for (const { client, upstream } of [...pairs]) {
        client.resetAndDestroy();
        upstream.resetAndDestroy();
      }
      pairs.clear();
    },
    restore(targetPort?: number) {
      if (targetPort !== undefined) target = targetPort;
      isCut = false;
    },
    close() {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      pairs.clear();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
