/** Renders a run: Markdown tables (absolute figures and portico-ws ÷ peer ratios) and an SVG chart. */
import type { ServerResult } from './scenarios.js';

export interface RunReport {
  startedAt: string;
  mode: 'full' | 'quick' | 'custom';
  machine: { cpu: string; cores: number; node: string };
  options: Record<string, unknown>;
  servers: ServerResult[];
  skipped: Array<{ name: string; reason: string }>;
}

const k = (n: number): string => (n >= 10_000 ? `${(n / 1000).toFixed(0)}k` : n >= 1000 ? `${(n / 1000).toFixed(1)}k` : n.toFixed(0));
const ms = (n: number): string => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));

interface Metric { key: string; title: string; value: (r: ServerResult) => number; show: (n: number) => string; higherIsBetter: boolean }

export const METRICS: Metric[] = [
  { key: 'fanout', title: 'fan-out deliveries/s', value: (r) => r.fanout.result.deliveriesPerSecond, show: k, higherIsBetter: true },
  { key: 'fanoutLoadgenCpu', title: 'loadgen CPU % (fan-out)', value: (r) => r.fanout.result.cpu, show: (n) => n.toFixed(0), higherIsBetter: false },
  { key: 'targeted', title: 'targeted msg/s', value: (r) => r.targeted.result.messagesPerSecond, show: k, higherIsBetter: true },
  { key: 'targetedP99', title: 'targeted p99 ms', value: (r) => r.targeted.result.latency.p99Ms, show: ms, higherIsBetter: false },
  { key: 'targetedLoadgenCpu', title: 'loadgen CPU % (targeted)', value: (r) => r.targeted.result.cpu, show: (n) => n.toFixed(0), higherIsBetter: false },
  { key: 'p50', title: 'p50 ms @ rate', value: (r) => r.latency.result.latency.p50Ms, show: ms, higherIsBetter: false },
  { key: 'p99', title: 'p99 ms @ rate', value: (r) => r.latency.result.latency.p99Ms, show: ms, higherIsBetter: false },
  { key: 'max', title: 'max ms @ rate', value: (r) => r.latency.result.latency.maxMs, show: ms, higherIsBetter: false },
  { key: 'handshakes', title: 'handshakes/s', value: (r) => r.handshakes.result.perSecond, show: k, higherIsBetter: true },
  { key: 'handshakesLoadgenCpu', title: 'loadgen CPU % (handshakes)', value: (r) => r.handshakes.result.cpu, show: (n) => n.toFixed(0), higherIsBetter: false },
  { key: 'rss', title: 'RSS KB/conn', value: (r) => r.memory.rssPerConnectionKB, show: (n) => n.toFixed(1), higherIsBetter: false },
  { key: 'heap', title: 'heap KB/conn', value: (r) => r.memory.heapPerConnectionKB, show: (n) => n.toFixed(1), higherIsBetter: false },
];

const RATIO_KEYS = ['fanout', 'targeted', 'p99', 'handshakes', 'rss'];

export function markdownTables(report: RunReport): string {
  const rows = report.servers;
  const head = `| server | ${METRICS.map((m) => m.title).join(' | ')} |`;
  const rule = `|${' --- |'.repeat(METRICS.length + 1)}`;
  const body = rows.map((r) => `| ${r.label} | ${METRICS.map((m) => m.show(m.value(r))).join(' | ')} |`);
  const lines = [head, rule, ...body];
  const portico = rows.find((r) => r.name === 'portico-ws');
  if (portico && rows.length > 1) {
    const ratioMetrics = METRICS.filter((m) => RATIO_KEYS.includes(m.key));
    lines.push('', `| portico-ws ÷ | ${ratioMetrics.map((m) => `${m.title}${m.higherIsBetter ? ' (↑)' : ' (↓)'}`).join(' | ')} |`, `|${' --- |'.repeat(ratioMetrics.length + 1)}`);
    for (const peer of rows.filter((r) => r !== portico)) {
      lines.push(`| ${peer.label} | ${ratioMetrics.map((m) => ratio(m.value(portico), m.value(peer))).join(' | ')} |`);
    }
  }
  // Socket.IO clients on portico-ws against Socket.IO 4.8 with its Redis adapter (issue 12's goals).
  const sioPortico = rows.find((r) => r.name === 'portico-ws-socketio');
  const sioPeer = rows.find((r) => r.name === 'socketio');
  if (sioPortico && sioPeer) {
    const ratioMetrics = METRICS.filter((m) => RATIO_KEYS.includes(m.key));
    lines.push('', `| ${sioPortico.label} ÷ | ${ratioMetrics.map((m) => `${m.title}${m.higherIsBetter ? ' (↑)' : ' (↓)'}`).join(' | ')} |`, `|${' --- |'.repeat(ratioMetrics.length + 1)}`);
    lines.push(`| ${sioPeer.label} | ${ratioMetrics.map((m) => ratio(m.value(sioPortico), m.value(sioPeer))).join(' | ')} |`);
  }
  for (const s of report.skipped) lines.push('', `Skipped ${s.name}: ${s.reason}`);
  return lines.join('\n');
}

function ratio(a: number, b: number): string {
  return b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a';
}

/** Horizontal bar chart, one panel per headline metric, bars scaled to the panel's best value. */
export function svgChart(report: RunReport): string {
  const panels = METRICS.filter((m) => ['fanout', 'targeted', 'p99', 'handshakes', 'rss'].includes(m.key));
  const servers = report.servers;
  const barH = 18;
  const gap = 4;
  const labelW = 190;
  const barW = 360;
  const panelH = 28 + servers.length * (barH + gap) + 14;
  const width = labelW + barW + 90;
  const height = 40 + panels.length * panelH;
  const colors = ['#d9480f', '#1971c2', '#2f9e44', '#7048e8', '#e67700', '#0c8599'];
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="22" font-size="15" font-weight="bold">${esc(`portico-ws benchmark (${report.mode}, ${report.servers[0]?.memory.connections ?? 0} connections, ${report.startedAt.slice(0, 10)})`)}</text>`,
  ];
  panels.forEach((m, p) => {
    const y0 = 40 + p * panelH;
    const values = servers.map(m.value);
    const max = Math.max(...values, 1e-9);
    out.push(`<text x="10" y="${y0 + 16}" font-weight="bold">${esc(`${m.title} (${m.higherIsBetter ? 'higher' : 'lower'} is better)`)}</text>`);
    servers.forEach((s, i) => {
      const y = y0 + 26 + i * (barH + gap);
      const w = Math.max(1, (values[i]! / max) * barW);
      out.push(
        `<text x="10" y="${y + 13}">${esc(s.label)}</text>`,
        `<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${colors[i % colors.length]}"/>`,
        `<text x="${labelW + w + 6}" y="${y + 13}">${esc(m.show(values[i]!))}</text>`,
      );
    });
  });
  out.push('</svg>');
  return out.join('\n');
}
