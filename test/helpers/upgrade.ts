/** One raw WebSocket upgrade request, for tests of what the gateway refuses and how. */
import http from 'node:http';

export interface UpgradeAnswer { status: number; body: string }

export const UPGRADE_HEADERS = { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' };

/** Send one upgrade request and report the status (101 when accepted) and any body. */
export function upgradeAnswer(port: number, path: string, headers: Record<string, string>, localAddress?: string): Promise<UpgradeAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, localAddress, headers: { ...UPGRADE_HEADERS, ...headers } });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: '' });
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
