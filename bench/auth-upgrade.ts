/**
 * `node --import tsx bench/auth-upgrade.ts`: WebSocket upgrades per second with the identity
 * callback (WSS_AUTH_URL, answers cached) against without it. The gateway runs as its own
 * process on core 0; PorticoEstate's /bookingfrontend/user is the test stand-in (a real HTTP
 * server in this process). 300 sessions, each seen once first (to fill the cache, reported as
 * "first sight"), then 3,000 handshakes cycling over them, 100 at a time; off/on alternate, two
 * rounds each, best of each reported. Under a minute; on a shared machine expect ±15 % or worse.
 */
import WebSocket from 'ws';
import { startPorticoAuthServer } from '../test/helpers/portico-auth.js';
import { freePort, startServer, type ServerSpec } from './server-process.js';

const SESSIONS = 300;
const HANDSHAKES = 3000;
const CONCURRENCY = 100;

function spec(authUrl: string | null): ServerSpec {
  return {
    name: authUrl ? 'auth-on' : 'auth-off', label: '', args: ['dist/cli/main.js', 'start'], path: '/wss', dialect: 'ws',
    env: (port) => ({
      WSS_HOST: '127.0.0.1', WSS_PORT: String(port), WSS_LOG_ENABLED: 'false', WSS_LOG_TO_DOCKER: 'false', WSS_SPOOL_ENABLED: 'false',
      WSS_MAX_CONNECTIONS: '100000', WSS_MAX_CONNECTIONS_PER_IP: '100000', WSS_PROTOCOL_PING_MS: '3600000', WSS_SERVER_PING_MS: '3600000',
      ...(authUrl ? { WSS_AUTH_URL: authUrl, WSS_AUTH_CACHE_MS: '600000' } : {}),
    }),
  };
}

/** Open `count` connections (session `i % SESSIONS`), `CONCURRENCY` at a time, each closed once greeted; handshakes per second. */
async function handshakes(port: number, count: number): Promise<number> {
  let started = 0;
  const t0 = performance.now();
  const one = (): Promise<void> => new Promise((resolve, reject) => {
    const index = started++;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/wss`, { headers: { cookie: `bookingfrontendsession=benchauth${index % SESSIONS}` } });
    ws.on('message', (data) => {
      if (data.toString().includes('"connection_success"')) { ws.terminate(); resolve(); }
    });
    ws.on('error', reject);
  });
  const worker = async () => { while (started < count) await one(); };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return count / ((performance.now() - t0) / 1000);
}

async function main(): Promise<void> {
  const portico = await startPorticoAuthServer();
  for (let i = 0; i < SESSIONS; i++) portico.login(`benchauth${i}`, { ssn: `${10_000_000_000 + i}` });
  const best: Record<string, number> = { off: 0, on: 0 };
  let firstSight = 0;
  for (const round of [1, 2]) {
    for (const mode of ['off', 'on'] as const) {
      const port = await freePort();
      const server = await startServer(spec(mode === 'on' ? portico.userUrl : null), { port, redisPort: 0, core: 0, nofile: 20_000 });
      try {
        const warm = await handshakes(port, SESSIONS);
        if (mode === 'on') firstSight = Math.max(firstSight, warm);
        const rate = await handshakes(port, HANDSHAKES);
        best[mode] = Math.max(best[mode]!, rate);
        console.log(`round ${round} auth ${mode}: ${Math.round(rate)} upgrades/s (first sight of each session: ${Math.round(warm)}/s)`);
      } finally {
        await server.stop();
      }
    }
  }
  await portico.close();
  console.log(`best: off ${Math.round(best.off!)}/s, on (cached) ${Math.round(best.on!)}/s, ratio ${(best.on! / best.off!).toFixed(2)}x; `
    + `on, first sight (one callback each) ${Math.round(firstSight)}/s; callback requests ${portico.requests.user}`);
}

await main();
