/**
 * A private `redis-server` on a free 127.0.0.1 port, for tests that need to kill and restart
 * Redis. Stopped by its pid, never by name.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort, waitForPort } from './net.js';

export { freePort } from './net.js';

export interface RedisServer {
  port: number;
  url: string;
  /** Kill the server (SIGKILL by default, as a crash would) and wait for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Start it again on the same port. */
  restart(): Promise<void>;
  /** Freeze (SIGSTOP) or thaw (SIGCONT) the process: a hung Redis that keeps its sockets open. */
  pause(): void;
  resume(): void;
}

export async function startRedisServer(port?: number): Promise<RedisServer> {
  const chosen = port ?? (await freePort());
  let child: ChildProcess | null = null;
  const launch = async () => {
    child = spawn('redis-server', ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], { stdio: 'ignore' });
    await waitForPort(chosen, 10_000);
  };
  await launch();
  const running = (): ChildProcess | null => {
    const proc = child as ChildProcess | null;
    return proc && proc.exitCode === null && proc.signalCode === null ? proc : null;
  };
  const stop = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const proc = running();
    if (!proc) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    process.kill(proc.pid!, signal);
    await exited;
  };
  return {
    port: chosen,
    url: `redis://127.0.0.1:${chosen}`,
    stop,
    async restart() {
      await stop();
      await launch();
    },
    pause() { const proc = running(); if (proc) process.kill(proc.pid!, 'SIGSTOP'); },
    resume() { const proc = running(); if (proc) process.kill(proc.pid!, 'SIGCONT'); },
  };
}
