/** One GET of the gateway's /health: healthy means it answered 200 with a report in time. */
export interface HealthReportSummary {
  status: string;
  clients?: number;
  redis?: string;
  database?: string;
  uptime?: number;
  instance?: string;
  pid?: number;
}

export type HealthResult = { ok: true; report: HealthReportSummary } | { ok: false; reason: string };

export async function checkHealth(url: string, timeoutMs: number): Promise<HealthResult> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    if (res.status !== 200) return { ok: false, reason: `${url} answered HTTP ${res.status}` };
    try {
      return { ok: true, report: JSON.parse(text) as HealthReportSummary };
    } catch {
      return { ok: false, reason: `${url} answered something that is not a health report` };
    }
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const why = e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.message);
    return { ok: false, reason: `${url}: ${why}` };
  }
}

export function describeReport(r: HealthReportSummary): string {
  const parts = [`status ${r.status}`];
  if (r.clients !== undefined) parts.push(`${r.clients} client(s)`);
  if (r.redis !== undefined) parts.push(`redis ${r.redis}`);
  if (r.database !== undefined) parts.push(`database ${r.database}`);
  if (r.uptime !== undefined) parts.push(`up ${r.uptime}s`);
  return parts.join(', ');
}
