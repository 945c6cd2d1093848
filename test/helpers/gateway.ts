/** Start an in-process gateway on 127.0.0.1, port 0, with test-friendly defaults. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { defaultConfig, type Config, type DeepPartial } from '../../src/server/config/index.js';
import { createGateway, type Gateway, type GatewayDeps } from '../../src/server/gateway.js';
import { TestClient } from './ws-client.js';

export interface TestGateway {
  gateway: Gateway;
  config: Config;
  port: number;
  url: string;
  httpUrl: string;
  spoolDir: string;
  close(): Promise<void>;
}

export function tempDir(prefix = 'portico-ws-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function startTestGateway(overrides: DeepPartial<Config> = {}, deps: GatewayDeps = {}): Promise<TestGateway> {
  const spoolDir = overrides.spool?.dir ?? tempDir();
  const config = defaultConfig({
    host: '127.0.0.1',
    port: 0,
    instanceId: `test-${Math.random().toString(36).slice(2, 8)}`,
    ...overrides,
    spool: { scanIntervalMs: 200, settleMs: 300, ...overrides.spool, dir: spoolDir },
    timers: { shutdownTimeoutMs: 1000, ...overrides.timers },
  });
  const gateway = createGateway(config, deps);
  const { port } = await gateway.start();
  return {
    gateway, config, port, spoolDir,
    url: `ws://127.0.0.1:${port}/wss`,
    httpUrl: `http://127.0.0.1:${port}`,
    close: () => gateway.close(),
  };
}

/**
 * One gateway for a whole test file: started before the first test, closed (with every client
 * `connect` opened) after the last.
 */
export function sharedTestGateway(overrides: DeepPartial<Config> = {}) {
  let current: TestGateway | undefined;
  const clients: TestClient[] = [];
  before(async () => { current = await startTestGateway(overrides); });
  after(async () => {
    for (const c of clients) c.close();
    await current?.close();
  });
  return {
    get gw(): TestGateway {
      if (!current) throw new Error('the shared gateway is not started yet');
      return current;
    },
    /** Connect a client (cookie optional) on `path` (default /wss); closed after the file. */
    async connect(cookie?: string, path = '/wss'): Promise<TestClient> {
      const c = await TestClient.connect(this.gw.url.replace('/wss', path), { cookie });
      clients.push(c);
      return c;
    },
  };
}
