/**
 * Starts one benchmarked server as its own process pinned to a core (`taskset`), with the
 * open-file limit raised, the stats probe preloaded, and optionally `--cpu-prof`; stops it by pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitForPort } from '../test/helpers/net.js';

export { freePort, waitForPort };

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface ServerSpec {
  name: string;
  label: string;
  /** Node arguments after the runner's own (script and its arguments). */
  args: string[];
  env: (port: number, redisPort: number) => Record<string, string>;
  path: string;
  dialect: 'ws' | 'socketio';
}

/** `loop`: event-loop delay since the previous request that reset it (monitorEventLoopDelay, 10 ms resolution). */
export interface ProbeStats { memory: NodeJS.MemoryUsage; cpu: NodeJS.CpuUsage; loop: { meanMs: number; p99Ms: number; maxMs: number } }

export interface ServerProcess {
  pid: number;
  stats(gc: boolean, resetLag?: boolean): Promise<ProbeStats>;
  stop(): Promise<void>;
  /** SIGKILL, as a crashing instance; resolves once it exited. */
  kill(): Promise<void>;
  stderrTail(): string;
}

const TSX = ['--import', 'tsx'];

const porticoEnv = (port: number, redisPort: number): Record<string, string> => ({
  WSS_HOST: '127.0.0.1', WSS_PORT: String(port), REDIS_HOST: '127.0.0.1', REDIS_PORT: String(redisPort),
  WSS_LOG_ENABLED: 'false', WSS_SPOOL_ENABLED: 'false', WSS_MAX_CONNECTIONS: '100000', WSS_MAX_CONNECTIONS_PER_IP: '100000',
  WSS_RATE_LIMIT: '100000', WSS_RATE_BURST: '100000', WSS_RATE_CLOSE_AFTER: '1000000',
  WSS_PROTOCOL_PING_MS: '3600000', WSS_SERVER_PING_MS: '3600000',
});

export const SERVERS: ServerSpec[] = [
  { name: 'portico-ws', label: 'portico-ws', args: ['dist/cli/main.js', 'start'], path: '/wss', dialect: 'ws', env: porticoEnv },
  // The same gateway with Socket.IO clients (its /wss/socket.io front door), against the Socket.IO peer.
  {
    name: 'portico-ws-socketio', label: 'portico-ws, Socket.IO clients', args: ['dist/cli/main.js', 'start'],
    path: '/wss/socket.io/?EIO=4&transport=websocket', dialect: 'socketio', env: porticoEnv,
  },
  { name: 'socketio', label: 'Socket.IO 4.8', args: [...TSX, 'bench/servers/socketio.ts'], path: '/socket.io/?EIO=4&transport=websocket', dialect: 'socketio', env: peerEnv },
  { name: 'ws-naive', label: 'ws, send per client', args: [...TSX, 'bench/servers/ws-naive.ts'], path: '/', dialect: 'ws', env: peerEnv },
  { name: 'ws-packed', label: 'ws, framed once + packed', args: [...TSX, 'bench/servers/ws-packed.ts'], path: '/', dialect: 'ws', env: peerEnv },
  { name: 'uws', label: 'uWebSockets.js publish', args: [...TSX, 'bench/servers/uws.ts'], path: '/', dialect: 'ws', env: peerEnv },
];

function peerEnv(port: number, redisPort: number): Record<string, string> {
  return { PORT: String(port), REDIS_PORT: String(redisPort) };
}

/** `taskset -c <core> bash -c 'ulimit -n N; exec node …'`, falling back to plain node when taskset is missing. */
export function pinnedCommand(core: number | null, nodeArgs: string[], nofile: number): { cmd: string; args: string[] } {
  const quoted = [process.execPath, ...nodeArgs].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const script = `ulimit -n ${nofile} 2>/dev/null || ulimit -n $(ulimit -Hn); exec ${quoted}`;
  if (core !== null && fs.existsSync('/usr/bin/taskset')) return { cmd: 'taskset', args: ['-c', String(core), 'bash', '-c', script] };
  return { cmd: 'bash', args: ['-c', script] };
}

export async function startServer(spec: ServerSpec, opts: { port: number; redisPort: number; core: number | null; nofile: number; profileDir?: string }): Promise<ServerProcess> {
  const nodeArgs = ['--expose-gc', '--import', './bench/probe.mjs'];
  if (opts.profileDir) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`, `--cpu-prof-name=${spec.name}-${Date.now()}.cpuprofile`);
  nodeArgs.push(...spec.args);
  const { cmd, args } = pinnedCommand(opts.core, nodeArgs, opts.nofile);
  const child = spawn(cmd, args, {
    cwd: ROOT,
    env: { ...process.env, ...spec.env(opts.port, opts.redisPort), NODE_ENV: 'production' },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  let nextId = 1;
  const waiting = new Map<number, (s: ProbeStats) => void>();
  child.on('message', (m: { probe?: string; id: number } & ProbeStats) => {
    if (m.probe === 'stats') waiting.get(m.id)?.(m), waiting.delete(m.id);
  });
  try {
    await waitForPort(opts.port, 20_000, child);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${spec.name}: ${(err as Error).message}\n${stderr}`);
  }
  return {
    pid: child.pid!,
    stderrTail: () => stderr,
    stats: (gc, resetLag = false) => new Promise((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => { waiting.delete(id); reject(new Error(`${spec.name}: stats probe timed out`)); }, 30_000);
      waiting.set(id, (s) => { clearTimeout(timer); resolve(s); });
      child.send({ probe: 'stats', id, gc, resetLag });
    }),
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      // The pid is the taskset/bash wrapper's, which exec'd node: the same process.
      process.kill(child.pid!, 'SIGKILL');
      await exited;
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      process.kill(child.pid!, 'SIGTERM');
      const timer = setTimeout(() => { if (child.exitCode === null) process.kill(child.pid!, 'SIGKILL'); }, 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
