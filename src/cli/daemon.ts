/**
 * Daemon management without a service manager: `start --daemon` runs `portico-ws start` detached
 * with its output appended to WSS_LOG_FILE and its pid in WSS_PID_FILE, and waits until /health
 * answers; `stop` signals only the process that pid file names, and only if it is a portico-ws
 * gateway (see pid-file.ts). Under systemd, use the unit in deploy/ instead.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CliContext } from './context.js';
import { checkHealth, describeReport, type HealthReportSummary } from './health-check.js';
import { isAlive, readPidFile, removePidFile, writePidFile } from './pid-file.js';

const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'main.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Exit codes of `status` (LSB init-script convention). */
export const STATUS = { RUNNING: 0, UNHEALTHY: 1, NOT_RUNNING: 3 } as const;

export async function startDaemon(ctx: CliContext): Promise<number> {
  const { settings, io } = ctx;
  const current = readPidFile(settings.pidFile);
  if (current.state === 'running') {
    io.err(io.errColor.bad(`portico-ws is already running (pid ${current.pid}, pid file ${settings.pidFile})`));
    return 1;
  }
  if (current.state === 'stale') {
    io.err(io.errColor.warn(`removing stale pid file ${settings.pidFile}: ${current.reason}`));
    removePidFile(settings.pidFile);
  }

  fs.mkdirSync(path.dirname(settings.logFile), { recursive: true });
  const logFd = fs.openSync(settings.logFile, 'a', 0o640);
  const logStart = fs.fstatSync(logFd).size;
  const child = spawn(process.execPath, [MAIN, 'start'], { detached: true, stdio: ['ignore', logFd, logFd], env: ctx.env as NodeJS.ProcessEnv });
  fs.closeSync(logFd);
  const pid = child.pid;
  if (pid === undefined) {
    io.err(io.errColor.bad('could not start the gateway process'));
    return 1;
  }
  let exitCode: number | null | undefined;
  child.once('exit', (code, signal) => { exitCode = code ?? (signal ? 128 : 1); });
  try {
    writePidFile(settings.pidFile, pid);
  } catch (err) {
    process.kill(pid, 'SIGTERM'); // ours: started a moment ago
    io.err(io.errColor.bad(`another start created ${settings.pidFile} meanwhile (${(err as Error).message}); not starting`));
    return 1;
  }
  child.unref();

  const deadline = Date.now() + settings.startTimeoutMs;
  let last = '';
  // Another process answering /health (another gateway on the same port) is not success: only
  // an answer that names the pid just started is.
  let other: HealthReportSummary | null = null;
  while (Date.now() < deadline) {
    if (exitCode !== undefined) break;
    const health = await checkHealth(ctx.healthUrl, Math.min(1000, settings.healthTimeoutMs));
    if (health.ok && health.report.pid === pid) {
      io.out(io.outColor.ok(`portico-ws started (pid ${pid})`) + io.outColor.dim(` — ${describeReport(health.report)}; log ${settings.logFile}; pid file ${settings.pidFile}`));
      return 0;
    }
    if (health.ok) other = health.report;
    last = health.ok ? `answered by another process (pid ${health.report.pid ?? 'unknown'}), not pid ${pid}` : health.reason;
    await sleep(100);
  }
  if (exitCode === undefined && isAlive(pid)) process.kill(pid, 'SIGKILL'); // ours, and not healthy in time
  removePidFile(settings.pidFile, pid);
  if (exitCode !== undefined && other === null) {
    // It died before /health was asked: whoever answers now is what holds the address.
    const health = await checkHealth(ctx.healthUrl, Math.min(1000, settings.healthTimeoutMs));
    if (health.ok) other = health.report;
  }
  const logText = readFrom(settings.logFile, logStart);
  const cause = startFailure(logText);
  const holder = other ? `; ${ctx.healthUrl} is answered by another gateway (pid ${other.pid ?? 'unknown'}, instance ${other.instance ?? 'unknown'}), which holds the port` : '';
  io.err(io.errColor.bad(exitCode !== undefined
    ? `the gateway exited during start-up (code ${exitCode})${cause ? `: ${cause}` : ''}${holder}`
    : `the gateway did not answer ${ctx.healthUrl} within ${settings.startTimeoutMs} ms (${last}); stopped it`));
  const tail = logText.trimEnd().split('\n').slice(-15).join('\n');
  if (tail) io.err(io.errColor.dim(`last lines of ${settings.logFile}:\n${tail}`));
  return 1;
}

/** Why the gateway gave up, from its log: the error of its "could not start" line (e.g. EADDRINUSE). */
export function startFailure(logText: string): string | null {
  for (const line of logText.trimEnd().split('\n').reverse()) {
    let entry: { level?: unknown; msg?: unknown; err?: { message?: unknown; code?: unknown } };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue;
    }
    if (typeof entry.level !== 'number' || entry.level < 50) continue;
    const message = typeof entry.err?.message === 'string' ? entry.err.message : typeof entry.msg === 'string' ? entry.msg : null;
    if (!message) continue;
    const code = typeof entry.err?.code === 'string' && !message.includes(entry.err.code) ? ` (${entry.err.code})` : '';
    const hint = /EADDRINUSE/.test(message + code) ? ' — another process listens on that address; stop it or set WSS_PORT' : '';
    return `${message}${code}${hint}`;
  }
  return null;
}

export async function stopDaemon(ctx: CliContext): Promise<number> {
  const { settings, io } = ctx;
  const current = readPidFile(settings.pidFile);
  if (current.state === 'absent') {
    io.out(`portico-ws is not running (no pid file at ${settings.pidFile})`);
    return 0;
  }
  if (current.state === 'stale') {
    removePidFile(settings.pidFile);
    io.out(`portico-ws is not running; removed stale pid file (${current.reason}); no process was signalled`);
    return 0;
  }
  const { pid } = current;
  if (!signal(pid, 'SIGTERM')) {
    // It exited between the pid-file check and the signal: stopped all the same.
    removePidFile(settings.pidFile, pid);
    io.out(`portico-ws is not running (pid ${pid} exited)`);
    return 0;
  }
  if (await waitForExit(pid, settings.stopTimeoutMs)) {
    removePidFile(settings.pidFile, pid);
    io.out(io.outColor.ok(`portico-ws stopped (pid ${pid})`));
    return 0;
  }
  io.err(io.errColor.warn(`pid ${pid} still running ${settings.stopTimeoutMs} ms after SIGTERM; sending SIGKILL`));
  if (readPidFile(settings.pidFile).state === 'running') signal(pid, 'SIGKILL');
  if (await waitForExit(pid, 5000)) {
    removePidFile(settings.pidFile, pid);
    io.out(io.outColor.warn(`portico-ws killed (pid ${pid})`));
    return 0;
  }
  io.err(io.errColor.bad(`pid ${pid} did not exit even after SIGKILL`));
  return 1;
}

export async function restartDaemon(ctx: CliContext): Promise<number> {
  const stopped = await stopDaemon(ctx);
  if (stopped !== 0) return stopped;
  return startDaemon(ctx);
}

export async function statusCommand(ctx: CliContext): Promise<number> {
  const { settings, io } = ctx;
  const current = readPidFile(settings.pidFile);
  const health = await checkHealth(ctx.healthUrl, settings.healthTimeoutMs);
  if (current.state !== 'running') {
    const why = current.state === 'absent' ? `no pid file at ${settings.pidFile}` : `stale pid file: ${current.reason}`;
    io.out(io.outColor.bad('portico-ws is not running') + ` (${why})`);
    if (health.ok) io.out(io.outColor.warn(`note: a gateway not started by this command answers ${ctx.healthUrl} (${describeReport(health.report)})`));
    return STATUS.NOT_RUNNING;
  }
  if (!health.ok) {
    io.out(io.outColor.bad(`portico-ws is running (pid ${current.pid}) but not healthy: ${health.reason}`));
    return STATUS.UNHEALTHY;
  }
  io.out(io.outColor.ok(`portico-ws is running (pid ${current.pid})`) + ` — ${describeReport(health.report)}`);
  return STATUS.RUNNING;
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

function readFrom(file: string, offset: number): string {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const start = Math.max(offset, size - 64 * 1024);
      const buf = Buffer.alloc(Math.max(0, size - start));
      fs.readSync(fd, buf, 0, buf.length, start);
      return buf.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return '';
  }
}

/** Send `sig`; false when the process no longer exists (ESRCH), other errors are thrown. */
function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}
