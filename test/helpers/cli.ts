/** Run the built `portico-ws` command as a subprocess (the test command builds dist/ first). */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const CLI = path.resolve('dist/cli/main.js');

export function assertBuilt(): void {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first (npm test does)`);
}

export function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 20_000) {
  assertBuilt();
  return spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: timeoutMs });
}

export function spawnCli(args: string[], env: Record<string, string> = {}): ChildProcess {
  assertBuilt();
  return spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** `portico-ws start` as a child process; resolves once it logs that it listens. */
export async function startCliGateway(env: Record<string, string>, timeoutMs = 30_000): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawnCli(['start'], env);
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  const deadline = Date.now() + timeoutMs;
  while (!out.includes('portico-ws listening')) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`gateway did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, output: () => out };
}
