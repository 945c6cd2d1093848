/**
 * Two gateways on one private redis-server with the admin view on: A in this process, B as a
 * `portico-ws start` child process (so a test can freeze it with SIGSTOP or let it exit after a
 * drain), and a small client for the admin API.
 */
import type { ChildProcess } from 'node:child_process';
import { startCliGateway } from './cli.js';
import { tempDir } from './gateway.js';
import { startRedisGateway, type RedisTestGateway } from './redis-gateway.js';
import { freePort, startRedisServer, type RedisServer } from './redis-server.js';

export const ADMIN_TOKEN = 'admin-test-token-7f3a';
/** Short, so "not answering" shows quickly; generous enough for the loaded 2-core machine. */
export const ADMIN_TIMEOUT_MS = 1500;

export interface AdminCluster {
  server: RedisServer;
  a: RedisTestGateway;
  b: { id: string; child: ChildProcess; httpUrl: string; url: string; output: () => string };
  stop(): Promise<void>;
}

/** `clientAssetsDir`: where A reads its page from (browser tests build a fresh one). */
export async function startAdminCluster(clientAssetsDir?: string): Promise<AdminCluster> {
  const server = await startRedisServer();
  const a = await startRedisGateway(server, { instanceId: 'gw-a', admin: { token: ADMIN_TOKEN, timeoutMs: ADMIN_TIMEOUT_MS } }, clientAssetsDir ? { clientAssetsDir } : {});
  const port = await freePort();
  const { child, output } = await startCliGateway({
    WSS_PORT: String(port), WSS_HOST: '127.0.0.1', WSS_INSTANCE_ID: 'gw-b', REDIS_URL: server.url, REDIS_HOST: '',
    WSS_ADMIN_TOKEN: ADMIN_TOKEN, WSS_ADMIN_TIMEOUT_MS: String(ADMIN_TIMEOUT_MS), WSS_SPOOL_DIR: tempDir(),
    WSS_SHUTDOWN_TIMEOUT_MS: '1000', WSS_LOG_TO_DOCKER: 'false', DATABASE_URL: '', DB_HOST: '', DB_NAME: '', WSS_PORTICO_CONFIG: '', WSS_METRICS_ENABLED: 'false',
  });
  const b = { id: 'gw-b', child, output, httpUrl: `http://127.0.0.1:${port}`, url: `ws://127.0.0.1:${port}/wss` };
  return {
    server, a, b,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGCONT');
        child.kill('SIGKILL');
      }
      await a.close();
      await server.stop();
    },
  };
}

export async function adminGet<T = Record<string, unknown>>(httpUrl: string, path: string, token: string | null = ADMIN_TOKEN): Promise<{ status: number; body: T }> {
  const res = await fetch(`${httpUrl}/admin/api/${path}`, { headers: token === null ? {} : { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as T };
}

export async function adminPost<T = Record<string, unknown>>(httpUrl: string, path: string, body: object): Promise<{ status: number; body: T }> {
  const res = await fetch(`${httpUrl}/admin/api/${path}`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as T };
}

export interface InstanceJson { id: string; status: string; clients?: number; rooms?: Record<string, number>; lastAnswerAt: number; version?: string; uptime?: number }

export async function clusterInstances(httpUrl: string): Promise<InstanceJson[]> {
  return (await adminGet<{ instances: InstanceJson[] }>(httpUrl, 'cluster')).body.instances;
}
