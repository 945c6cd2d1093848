/** Terminal output: colours only when the stream is a terminal (and NO_COLOR is unset). */
import type { Env } from '../server/config/parse.js';

export interface Painter {
  ok(text: string): string;
  warn(text: string): string;
  bad(text: string): string;
  dim(text: string): string;
}

const plain: Painter = { ok: (t) => t, warn: (t) => t, bad: (t) => t, dim: (t) => t };
const wrap = (code: number) => (t: string) => `\u001b[${code}m${t}\u001b[0m`;
const coloured: Painter = { ok: wrap(32), warn: wrap(33), bad: wrap(31), dim: wrap(2) };

export function painter(stream: NodeJS.WriteStream, env: Env): Painter {
  return stream.isTTY && env.NO_COLOR === undefined && env.TERM !== 'dumb' ? coloured : plain;
}

/** What commands write: `out` to stdout, `err` to stderr, each with its own colours. */
export interface Output {
  out(line: string): void;
  err(line: string): void;
  outColor: Painter;
  errColor: Painter;
}

export function consoleOutput(env: Env): Output {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    outColor: painter(process.stdout, env),
    errColor: painter(process.stderr, env),
  };
}
