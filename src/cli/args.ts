/** A small argument parser for the sub-commands: known flags, `-n 20` / `-n=20` values, `--` ends flags. */

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface FlagSpec {
  /** Boolean flags, each with its aliases (e.g. ['--follow', '-f']). */
  booleans?: Record<string, string[]>;
  /** Flags that take a value. */
  values?: Record<string, string[]>;
}

export interface Parsed {
  flags: Record<string, boolean>;
  values: Record<string, string>;
  positionals: string[];
}

export function parseArgs(args: string[], spec: FlagSpec): Parsed {
  const out: Parsed = { flags: {}, values: {}, positionals: [] };
  const find = (table: Record<string, string[]> | undefined, arg: string) =>
    Object.entries(table ?? {}).find(([, names]) => names.includes(arg))?.[0];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      out.positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      out.positionals.push(arg);
      continue;
    }
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const bool = find(spec.booleans, flag);
    if (bool && inline === undefined) {
      out.flags[bool] = true;
      continue;
    }
    const value = find(spec.values, flag);
    if (value) {
      const v = inline ?? args[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      out.values[value] = v;
      continue;
    }
    throw new UsageError(`unknown option ${arg}`);
  }
  return out;
}
