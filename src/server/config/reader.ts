/**
 * Reads variables and records what it read (name, default, meaning), so the one place that
 * parses the configuration is also the one place that documents it (`portico-ws config`).
 */
import { readBool, readEnum, readInt, readList, readOptional, readString, type Env } from './parse.js';

export interface VariableDoc { name: string; default: string; meaning: string }

export class ConfigReader {
  readonly docs: VariableDoc[] = [];
  constructor(private readonly env: Env) {}

  private note(name: string, fallback: unknown, meaning: string): void {
    const shown = fallback === undefined || fallback === '' ? '(unset)' : Array.isArray(fallback) ? fallback.join(',') || '(empty)' : String(fallback);
    this.docs.push({ name, default: shown, meaning });
  }

  bool(name: string, fallback: boolean, meaning: string): boolean {
    this.note(name, fallback, meaning);
    return readBool(this.env, name, fallback);
  }
  int(name: string, fallback: number, min: number, max: number, meaning: string): number {
    this.note(name, fallback, meaning);
    return readInt(this.env, name, fallback, min, max);
  }
  /** `shown` documents a default computed at start-up (e.g. the OS temp folder). */
  string(name: string, fallback: string, meaning: string, shown?: string): string {
    this.note(name, shown ?? fallback, meaning);
    return readString(this.env, name, fallback);
  }
  optional(name: string, meaning: string): string | undefined {
    this.note(name, undefined, meaning);
    return readOptional(this.env, name);
  }
  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[], meaning: string): T {
    this.note(name, fallback, `${meaning} (${allowed.join(' | ')})`);
    return readEnum(this.env, name, fallback, allowed);
  }
  list(name: string, meaning: string, fallback: string[] = []): string[] {
    this.note(name, fallback, meaning);
    return readList(this.env, name, fallback);
  }
}

/** Every variable a builder reads, with its default and meaning: run it against an empty environment. */
export function documentVariables(build: (reader: ConfigReader) => unknown): VariableDoc[] {
  const reader = new ConfigReader({});
  build(reader);
  return reader.docs;
}
