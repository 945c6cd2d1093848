/**
 * Reads the database settings from a PorticoEstate installation's `config/header.inc.php`, as the
 * original PHP WebSocket server did, without running PHP: a small lexer for the PHP subset that
 * file uses (strings, numbers, comments, heredocs) and a scanner for the assignments
 *
 *   $GLOBALS['phpgw_domain']['default'] = array('db_host' => 'postgres', 'db_port' => '5432', …);
 *   $GLOBALS['phpgw_domain']['default']['db_name'] = 'portico';      // per-key form
 *   $phpgw_domain['default'] = [ … ];                                 // local-variable / short-array forms
 *
 * Everything else in the file (defines, function calls, headers) is skipped. Settings encrypted
 * by PorticoEstate's mcrypt option cannot be read this way; use DB_* or DATABASE_URL then.
 */
import fs from 'node:fs';

export type PhpScalar = string | number | boolean | null;

/** The database part of one `phpgw_domain` entry. */
export interface PorticoDatabaseSettings {
  /** Which domain the settings came from: `default`, else the first one in the file (as the original chose). */
  domain: string;
  host: string | undefined;
  port: number | undefined;
  name: string | undefined;
  user: string | undefined;
  password: string | undefined;
  /** `db_type` as written (`postgres`, `pgsql`, `mysql`, …). */
  type: string | undefined;
}

/** The file cannot be used: missing, unreadable, no `phpgw_domain` entry, or not a PostgreSQL database. */
export class PorticoConfigError extends Error {
  constructor(readonly file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'PorticoConfigError';
  }
}

type Token =
  | { kind: 'var'; value: string }
  | { kind: 'str'; value: string }
  | { kind: 'num'; value: number }
  | { kind: 'ident'; value: string }
  | { kind: 'punct'; value: string };

const PUNCT = ['=>', '[', ']', '(', ')', '=', ',', ';'];

/** Tokenise PHP source; anything the scanner has no use for becomes a `?` punctuation token. */
export function lexPhp(src: string): Token[] {
  const tokens: Token[] = [];
  let i = src.indexOf('<?php');
  i = i < 0 ? 0 : i + 5;
  const n = src.length;
  while (i < n) {
    const c = src[i]!;
    if (/\s/.test(c)) { i++; continue; }
    if (c === '#' || (c === '/' && src[i + 1] === '/')) {
      while (i < n && src[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
      continue;
    }
    if (c === '<' && src.startsWith('<<<', i)) {
      const m = /^<<<[ \t]*(["']?)([A-Za-z_]\w*)\1\r?\n/.exec(src.slice(i));
      if (m) {
        const label = m[2]!;
        const bodyStart = i + m[0].length;
        const close = new RegExp(`^[ \\t]*${label}\\b`, 'm');
        const rest = src.slice(bodyStart);
        const found = close.exec(rest);
        const body = found ? rest.slice(0, found.index).replace(/\r?\n$/, '') : rest;
        tokens.push({ kind: 'str', value: body });
        i = found ? bodyStart + found.index + found[0].length : n;
        continue;
      }
    }
    if (c === "'" || c === '"') {
      const [value, next] = readQuoted(src, i);
      tokens.push({ kind: 'str', value });
      i = next;
      continue;
    }
    if (c === '$') {
      const m = /^\$([A-Za-z_]\w*)/.exec(src.slice(i, i + 256));
      if (m) { tokens.push({ kind: 'var', value: m[1]! }); i += m[0].length; continue; }
    }
    const num = /^-?(?:0[xX][0-9a-fA-F]+|\d+(?:\.\d+)?)/.exec(src.slice(i, i + 64));
    if (num && (c === '-' || /\d/.test(c))) {
      tokens.push({ kind: 'num', value: Number(num[0]) });
      i += num[0].length;
      continue;
    }
    const ident = /^[A-Za-z_\\][\w\\]*/.exec(src.slice(i, i + 256));
    if (ident) { tokens.push({ kind: 'ident', value: ident[0] }); i += ident[0].length; continue; }
    const p = PUNCT.find((s) => src.startsWith(s, i));
    tokens.push({ kind: 'punct', value: p ?? '?' });
    i += p ? p.length : 1;
  }
  return tokens;
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', v: '\v', f: '\f', e: '\x1b', '0': '\0', '\\': '\\', '$': '$', '"': '"' };

/** A PHP single- or double-quoted string starting at `start`; returns its value and the index after it. */
function readQuoted(src: string, start: number): [string, number] {
  const quote = src[start]!;
  let out = '';
  let i = start + 1;
  while (i < src.length && src[i] !== quote) {
    const ch = src[i]!;
    if (ch === '\\' && i + 1 < src.length) {
      const next = src[i + 1]!;
      if (quote === "'") {
        out += next === "'" || next === '\\' ? next : `\\${next}`;
      } else {
        out += ESCAPES[next] ?? `\\${next}`;
      }
      i += 2;
      continue;
    }
    out += ch;
    i++;
  }
  return [out, i + 1];
}

/** Every `phpgw_domain` entry the file assigns, in file order, with its scalar settings. */
export function parsePhpgwDomains(src: string): Map<string, Record<string, PhpScalar>> {
  const t = lexPhp(src);
  const domains = new Map<string, Record<string, PhpScalar>>();
  const entry = (name: string) => {
    let d = domains.get(name);
    if (!d) domains.set(name, (d = {}));
    return d;
  };
  const isPunct = (k: number, v: string) => t[k]?.kind === 'punct' && t[k]!.value === v;
  const strAt = (k: number) => (t[k]?.kind === 'str' ? (t[k]!.value as string) : undefined);
  /** `[ 'x' ]` at k → [x, index after]. */
  const index = (k: number): [string, number] | undefined => {
    const s = strAt(k + 1);
    return isPunct(k, '[') && s !== undefined && isPunct(k + 2, ']') ? [s, k + 3] : undefined;
  };

  for (let k = 0; k < t.length; k++) {
    const tok = t[k]!;
    if (tok.kind !== 'var') continue;
    let at = k + 1;
    if (tok.value === 'GLOBALS') {
      const g = index(at);
      if (!g || g[0] !== 'phpgw_domain') continue;
      at = g[1];
    } else if (tok.value !== 'phpgw_domain') {
      continue;
    }
    const dom = index(at);
    if (!dom) continue;
    const [domainName, afterDomain] = dom;
    const key = index(afterDomain);
    if (key && isPunct(key[1], '=')) {
      const value = scalarAt(t, key[1] + 1);
      if (value !== undefined) entry(domainName)[key[0]] = value;
      continue;
    }
    if (isPunct(afterDomain, '=')) {
      const settings = arrayAt(t, afterDomain + 1);
      if (settings) Object.assign(entry(domainName), settings);
    }
  }
  return domains;
}

function scalarAt(t: Token[], k: number): PhpScalar | undefined {
  const tok = t[k];
  if (!tok) return undefined;
  if (tok.kind === 'str' || tok.kind === 'num') return tok.value;
  if (tok.kind === 'ident') {
    const word = tok.value.toLowerCase();
    if (word === 'true') return true;
    if (word === 'false') return false;
    if (word === 'null') return null;
  }
  return undefined;
}

/** `array( 'k' => v, … )` or `[ 'k' => v, … ]` at k: its scalar string-keyed entries (nested arrays skipped). */
function arrayAt(t: Token[], k: number): Record<string, PhpScalar> | undefined {
  let close: string;
  const first = t[k];
  if (first?.kind === 'ident' && first.value.toLowerCase() === 'array' && t[k + 1]?.kind === 'punct' && t[k + 1]!.value === '(') {
    close = ')'; k += 2;
  } else if (t[k]?.kind === 'punct' && t[k]!.value === '[') {
    close = ']'; k += 1;
  } else {
    return undefined;
  }
  const out: Record<string, PhpScalar> = {};
  let depth = 0;
  for (; k < t.length; k++) {
    const tok = t[k]!;
    if (tok.kind === 'punct' && (tok.value === '(' || tok.value === '[')) depth++;
    else if (tok.kind === 'punct' && (tok.value === ')' || tok.value === ']')) {
      if (depth === 0 && tok.value === close) return out;
      depth--;
    } else if (depth === 0 && tok.kind === 'str' && t[k + 1]?.kind === 'punct' && t[k + 1]!.value === '=>') {
      const value = scalarAt(t, k + 2);
      const after = t[k + 3];
      // A value followed by more than a comma or the closing bracket is an expression we do not evaluate.
      if (value !== undefined && (!after || (after.kind === 'punct' && (after.value === ',' || after.value === close)))) {
        out[tok.value] = value;
      }
    }
  }
  return out;
}

const asText = (v: PhpScalar | undefined): string | undefined =>
  v === undefined || v === null || v === false ? undefined : String(v);

/** Pick the domain (`default`, else the first) and read its db_* settings. */
export function porticoDatabaseSettings(src: string, file = 'header.inc.php'): PorticoDatabaseSettings {
  const domains = parsePhpgwDomains(src);
  const domain = domains.has('default') ? 'default' : domains.keys().next().value;
  if (domain === undefined) throw new PorticoConfigError(file, "no $GLOBALS['phpgw_domain'][…] database settings found");
  const d = domains.get(domain)!;
  const portText = asText(d.db_port);
  let port: number | undefined;
  if (portText !== undefined && portText !== '') {
    port = Number(portText);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new PorticoConfigError(file, `db_port must be a port number, got "${portText}"`);
  }
  const type = asText(d.db_type);
  if (type && !/^(postgres|postgresql|pgsql|pg)$/i.test(type)) {
    throw new PorticoConfigError(file, `db_type is "${type}"; only PostgreSQL is supported`);
  }
  return {
    domain,
    host: asText(d.db_host) || undefined,
    port,
    name: asText(d.db_name) || undefined,
    user: asText(d.db_user) || undefined,
    password: asText(d.db_pass),
    type,
  };
}

/** Read and parse the file; errors name the file but never a value from it. */
export function readPorticoDatabaseSettings(file: string): PorticoDatabaseSettings {
  let src: string;
  try {
    src = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new PorticoConfigError(file, `cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return porticoDatabaseSettings(src, file);
}
