/**
 * Value conversions that make rows read through `pg` look like the ones PorticoEstate's PHP code
 * reads through PDO and serialises: timestamps stay the database's text, bigints are numbers,
 * numerics stay decimal strings, JSON columns stay text; `@Timestamp` fields become ISO 8601 in
 * the installation's time zone; `@EscapeString` fields have HTML entities decoded; `@ParseBool`
 * fields are booleans.
 */
import pg from 'pg';

const OID = { INT8: 20, JSON: 114, DATE: 1082, TIMESTAMP: 1114, TIMESTAMPTZ: 1184, JSONB: 3802 } as const;
const RAW_TEXT = new Set<number>([OID.JSON, OID.DATE, OID.TIMESTAMP, OID.TIMESTAMPTZ, OID.JSONB]);

/**
 * Type parsers for the pool (per pool, never the process-wide `pg.types`, so other `pg` users
 * in the same process are unaffected). Timestamps without a zone stay text: converting them to
 * `Date` would read PorticoEstate's local wall-clock times in this process's time zone.
 */
export const porticoTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
    if (format !== 'binary') {
      if (RAW_TEXT.has(oid)) return (value: string) => value;
      if (oid === OID.INT8) return (value: string) => {
        const n = Number(value);
        return Number.isSafeInteger(n) ? n : value;
      };
    }
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

const offsetFormatters = new Map<string, Intl.DateTimeFormat>();

/** Minutes east of UTC that `timeZone` has at the instant `utcMs`. */
function offsetMinutes(utcMs: number, timeZone: string): number {
  let fmt = offsetFormatters.get(timeZone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' });
    offsetFormatters.set(timeZone, fmt);
  }
  const name = fmt.formatToParts(utcMs).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /GMT([+-])(\d{2}):?(\d{2})?/.exec(name);
  if (!m) return 0;
  const minutes = Number(m[2]) * 60 + Number(m[3] ?? 0);
  return m[1] === '-' ? -minutes : minutes;
}

function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/**
 * A wall-clock timestamp as stored by PorticoEstate (`2025-06-01 10:00:00`, local time of
 * `timeZone`) as PHP's `DateTime::format('c')` prints it: `2025-06-01T10:00:00+02:00`.
 * Text that is not a timestamp is returned unchanged.
 */
export function wallClockToIso(value: unknown, timeZone: string): unknown {
  if (value instanceof Date) value = value.toISOString();
  if (typeof value !== 'string') return value;
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?/.exec(value);
  if (!m) return value;
  const [, y, mo, d, h, mi, s = '00'] = m;
  const asUtc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  // The offset depends on the instant, which depends on the offset: guess, then correct once
  // (exact except inside a DST gap or overlap, where PHP also has to pick one side).
  let offset = offsetMinutes(asUtc, timeZone);
  const corrected = offsetMinutes(asUtc - offset * 60_000, timeZone);
  if (corrected !== offset) offset = corrected;
  return `${y}-${mo}-${d}T${h}:${mi}:${s}${formatOffset(offset)}`;
}

/** Throws RangeError for a time zone name this Node build does not know. */
export function assertTimeZone(timeZone: string): void {
  new Intl.DateTimeFormat('en-US', { timeZone });
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

function decodeOnce(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, body: string) => {
    if (body[0] === '#') {
      const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED[body.toLowerCase()] ?? whole;
  });
}

/**
 * `@EscapeString(mode="default")`: PorticoEstate stores user text HTML-escaped and decodes it
 * when serialising. Twice at most, because some rows were escaped twice.
 */
export function decodeEntities(value: unknown): unknown {
  if (typeof value !== 'string' || !value.includes('&')) return value;
  const once = decodeOnce(value);
  return /&(#x[0-9a-f]+|#\d+|[a-z]+);/i.test(once) ? decodeOnce(once) : once;
}

/** `@ParseBool`: 1, '1', 'true', 'yes' are true; everything else false. */
export function parseBool(value: unknown): boolean {
  if (typeof value === 'string') return ['1', 'true', 'yes'].includes(value.trim().toLowerCase());
  if (typeof value === 'number') return value === 1;
  return value === true;
}

/** A whole number from an int or a numeric's text (`'2.00'` → 2), as PHP's `(int)` cast. */
export function toInt(value: unknown): number | null {
  if (value === null || value === undefined || value === '') return null;
  const n = typeof value === 'number' ? value : parseFloat(String(value));
  return Number.isFinite(n) ? Math.trunc(n) : null;
}

/** PHP's float arithmetic on numeric text (`'100.00' + '25.00'`). */
export function toFloat(value: unknown): number {
  const n = typeof value === 'number' ? value : parseFloat(String(value ?? '0'));
  return Number.isFinite(n) ? n : 0;
}

/** PorticoEstate's serialiser leaves out properties whose value is null. */
export function withoutNulls<T extends Record<string, unknown>>(obj: T): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (v !== null && v !== undefined) out[k] = v;
  return out as Partial<T>;
}
