/** The runner's handle on the load-generator process: fork it pinned to a core, call its commands. */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { ConnectResult, FlowResult, TargetSpec } from './loadgen.js';
import type { StormResult } from './storm-pool.js';
import { ROOT } from './server-process.js';

export class LoadGenClient {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (m: { id: number; ok: boolean; result?: unknown; error?: string }) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.ok) w.resolve(m.result);
      else w.reject(new Error(`loadgen: ${m.error}`));
    });
    child.on('exit', (code) => {
      for (const w of this.waiting.values()) w.reject(new Error(`loadgen exited with ${code}`));
      this.waiting.clear();
    });
  }

  /** Fork `bench/loadgen.ts` (through tsx), pinned with taskset when `core` is given. */
  static start(core: number | null, nofile: number): LoadGenClient {
    const script = path.join(ROOT, 'bench', 'loadgen.ts');
    const pin = core !== null ? `taskset -c ${core} ` : '';
    // fork() keeps the IPC channel; the shell wrapper raises the open-file limit and pins the core.
    const child = fork(script, [], {
      cwd: ROOT,
      execPath: 'bash',
      execArgv: ['-c', `ulimit -n ${nofile} 2>/dev/null || ulimit -n $(ulimit -Hn); exec ${pin}"${process.execPath}" --import tsx "$0"`],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new LoadGenClient(child);
  }

  private call<T>(cmd: string, args?: unknown, timeoutMs = 180_000): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => { this.waiting.delete(id); reject(new Error(`loadgen ${cmd} timed out`)); }, timeoutMs);
      this.waiting.set(id, {
        resolve: (v) => { clearTimeout(timer); resolve(v); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      this.child.send({ id, cmd, args });
    });
  }

  init(spec: TargetSpec) { return this.call<{ ok: true }>('init', spec); }
  connect(args: { count: number; concurrency: number; timeoutMs: number; keep: boolean }) { return this.call<ConnectResult>('connect', args); }
  closeAll() { return this.call<{ closed: number }>('closeAll'); }
  fanout(args: { durationMs: number; window: number; timeoutMs: number }) { return this.call<FlowResult>('fanout', args); }
  targeted(args: { durationMs: number; window: number; timeoutMs: number }) { return this.call<FlowResult>('targeted', args); }
  rate(args: { perSecond: number; durationMs: number; timeoutMs: number }) { return this.call<FlowResult>('rate', args); }
  status() { return this.call<{ live: number; dropped: number }>('status'); }
  stormConnect(args: { port: number; witnessPort: number; count: number; concurrency: number; timeoutMs: number; runTag: string }) {
    return this.call<{ opened: number; failures: string[] }>('stormConnect', args);
  }
  stormPrime(args: { timeoutMs: number }) { return this.call<{ primed: number }>('stormPrime', args); }
  stormWaitClosed(args: { timeoutMs: number }) { return this.call<{ closed: number }>('stormWaitClosed', args); }
  stormMiss(args: { broadcasts: number; perSession: number; timeoutMs: number; redisPort: number; burst?: boolean }) {
    return this.call<{ witnessSeen: boolean; historyComplete: boolean; publishSeconds: number }>('stormMiss', args);
  }
  stormReconnect(args: { port: number; concurrency: number; timeoutMs: number }) { return this.call<StormResult>('stormReconnect', args); }
  stormClose() { return this.call<void>('stormClose'); }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
