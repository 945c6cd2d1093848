/**
 * The daemon's pid file and the question "is that process ours?". A pid in the file is only
 * trusted when that process is alive, not a zombie, and its command line is a `portico-ws start`;
 * anything else makes the file stale. So `stop` never signals a process it did not start, even
 * after the pid was reused.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export type PidState =
  | { state: 'running'; pid: number }
  | { state: 'stale'; pid: number | null; reason: string }
  | { state: 'absent' };

export function readPidFile(file: string): PidState {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'absent' };
    throw err;
  }
  const pid = Number(text.trim());
  if (!Number.isSafeInteger(pid) || pid <= 1) return { state: 'stale', pid: null, reason: `pid file does not hold a pid ("${text.trim().slice(0, 20)}")` };
  if (!isAlive(pid)) return { state: 'stale', pid, reason: `process ${pid} is not running` };
  if (!isPorticoWsStart(pid)) return { state: 'stale', pid, reason: `process ${pid} is not a portico-ws gateway` };
  return { state: 'running', pid };
}

/** Create the pid file; fails (EEXIST) if another start created it meanwhile. */
export function writePidFile(file: string, pid: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${pid}\n`, { flag: 'wx', mode: 0o644 });
}

export function removePidFile(file: string, onlyIfPid?: number): void {
  if (onlyIfPid !== undefined) {
    const current = fs.existsSync(file) ? Number(fs.readFileSync(file, 'utf8').trim()) : null;
    if (current !== onlyIfPid) return;
  }
  fs.rmSync(file, { force: true });
}

/** Alive and not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to someone else, which also means it is not ours.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (not Linux): trust kill(0)
  }
}

/** The command line of `pid`, or null when it cannot be read. */
function commandLine(pid: number): string[] | null {
  try {
    const raw = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter(Boolean);
  } catch {
    try {
      return execFileSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' }).trim().split(/\s+/).filter(Boolean);
    } catch {
      return null;
    }
  }
}

/** `node …/cli/main.js start` or `portico-ws start`, the command the daemon runs. */
export function isPorticoWsStart(pid: number): boolean {
  const args = commandLine(pid);
  if (!args || args.length === 0) return false;
  const script = args.findIndex((a) => /(^|[/\\])(cli[/\\]main\.(js|ts)|portico-ws)$/.test(a));
  return script >= 0 && args[script + 1] === 'start';
}
