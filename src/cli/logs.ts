/**
 * `portico-ws logs [-f] [-n N]`: the last N lines of the daemon's log file (default 50), and with
 * -f everything appended after, surviving truncation and rotation (a new file under the same
 * name is read from its start). On a terminal, pino's JSON lines are shown as
 * `time LEVEL message {fields}`; elsewhere they are passed through unchanged.
 */
import fs from 'node:fs';
import type { CliContext } from './context.js';
import type { Painter } from './output.js';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

export async function logsCommand(ctx: CliContext, opts: { follow: boolean; lines: number; signal?: AbortSignal }): Promise<number> {
  const { io, settings } = ctx;
  const file = settings.logFile;
  if (!fs.existsSync(file) && !opts.follow) {
    // Exit 1 (README: "1 no log file"): the file asked for is not there, most often a WSS_LOG_FILE
    // that differs from the daemon's; a script must not take that for "no news".
    io.err(io.errColor.bad(`no log file at ${file} (set WSS_LOG_FILE, or start with "portico-ws start --daemon")`));
    return 1;
  }
  // Listen for Ctrl-C before printing anything: whoever sees our first line may stop us at once.
  const stop = opts.follow ? new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    opts.signal?.addEventListener('abort', () => resolve());
  }) : null;
  const pretty = process.stdout.isTTY ? (line: string) => formatLine(line, io.outColor) : (line: string) => line;
  let position = 0;
  let inode = -1;
  if (fs.existsSync(file)) {
    const { text, size, ino } = readTail(file, opts.lines);
    for (const line of text) io.out(pretty(line));
    position = size;
    inode = ino;
  }
  if (stop === null) return 0;

  let partial = '';
  let stopped = false;
  void stop.then(() => { stopped = true; });
  while (!stopped) {
    const stat = fs.statSync(file, { throwIfNoEntry: false });
    if (stat) {
      if (stat.ino !== inode || stat.size < position) {
        position = 0; // rotated or truncated
        inode = stat.ino;
      }
      if (stat.size > position) {
        const fd = fs.openSync(file, 'r');
        const buf = Buffer.alloc(stat.size - position);
        fs.readSync(fd, buf, 0, buf.length, position);
        fs.closeSync(fd);
        position = stat.size;
        const lines = (partial + buf.toString('utf8')).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) io.out(pretty(line));
      }
    }
    await Promise.race([stop, new Promise((r) => setTimeout(r, 250))]);
  }
  return 0;
}

/** The last `n` complete lines of `file`, reading backwards in blocks. */
function readTail(file: string, n: number): { text: string[]; size: number; ino: number } {
  const fd = fs.openSync(file, 'r');
  try {
    const { size, ino } = fs.fstatSync(fd);
    let start = size;
    let chunk = '';
    while (start > 0 && chunk.split('\n').length <= n + 1) {
      const len = Math.min(64 * 1024, start);
      start -= len;
      const buf = Buffer.alloc(len);
      fs.readSync(fd, buf, 0, len, start);
      chunk = buf.toString('utf8') + chunk;
    }
    const lines = chunk.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    return { text: n === 0 ? [] : lines.slice(-n), size, ino };
  } finally {
    fs.closeSync(fd);
  }
}

function formatLine(line: string, c: Painter): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (typeof entry !== 'object' || entry === null || typeof entry.level !== 'number') return line;
  const { level, time, msg, pid: _pid, hostname: _host, service: _service, ...rest } = entry;
  const name = LEVELS[level as number] ?? String(level);
  const paint = (level as number) >= 50 ? c.bad : (level as number) >= 40 ? c.warn : (level as number) <= 20 ? c.dim : (t: string) => t;
  const when = typeof time === 'number' ? new Date(time).toISOString() : '';
  const fields = Object.keys(rest).length > 0 ? ' ' + c.dim(JSON.stringify(rest)) : '';
  return `${c.dim(when)} ${paint(name.padEnd(5))} ${String(msg ?? '')}${fields}`;
}
