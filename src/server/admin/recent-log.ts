/**
 * The last warnings and errors of this instance, for the admin view: a pino destination (added
 * to the logger at level warn) that keeps the last `capacity` lines in memory. Lines arrive
 * after pino's redaction, so they are masked exactly as the log files are.
 */
export interface RecentLogLine {
  /** ms since epoch. */
  t: number;
  level: 'warn' | 'error' | 'fatal';
  msg: string;
  /** The line's other fields as compact JSON, at most 600 characters. */
  detail: string;
}

const LEVELS: Record<number, RecentLogLine['level']> = { 40: 'warn', 50: 'error', 60: 'fatal' };
const OMIT = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'service']);
const MAX_DETAIL = 600;

export class RecentLog {
  private readonly lines: RecentLogLine[] = [];

  constructor(private readonly capacity = 200) {}

  /** Every serialised line the logger writes; only warn (40) and above are kept. */
  write(text: string): void {
    for (const raw of text.split('\n')) {
      if (!/^\{"level":[4-6]0,/.test(raw)) continue; // pino writes the level first
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        continue;
      }
      const level = LEVELS[typeof entry.level === 'number' ? entry.level : 0];
      if (level === undefined) continue;
      const rest: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(entry)) if (!OMIT.has(k)) rest[k] = v;
      let detail = Object.keys(rest).length > 0 ? JSON.stringify(rest) : '';
      if (detail.length > MAX_DETAIL) detail = `${detail.slice(0, MAX_DETAIL - 1)}…`;
      this.lines.push({ t: typeof entry.time === 'number' ? entry.time : Date.now(), level, msg: typeof entry.msg === 'string' ? entry.msg : '', detail });
      if (this.lines.length > this.capacity) this.lines.shift();
    }
  }

  list(): RecentLogLine[] {
    return [...this.lines];
  }
}
