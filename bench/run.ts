/**
 * `npm run bench` (full: 10,000 connections) and `npm run bench -- --quick` (2,000 connections,
 * short flows, under two minutes). Starts a private redis-server, then each server in turn on
 * core 0 with the load generator on core 1, and writes the table to stdout and JSON + SVG to
 * bench/results/. Then the delivery benchmarks (recovery.ts): fan-out with history on vs off and
 * the reconnect storm, written to bench/results/recovery-<mode>.{json,md}.
 * Options: --only=servers,history,storm (default all)  --servers=portico-ws,uws  --connections=N
 * --storm-clients=N  --storm-burst (publish the missed messages in one burst)  --history-rounds=N (default 2)  --window=N (broadcasts in flight in fan-out)  --profile (writes --cpu-prof profiles to bench/results/profiles/)  --out=<dir>
 * --portico-entry=<main.js of another build> (to compare builds; it must live inside this
 * repository to find node_modules).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startRedisServer } from '../test/helpers/redis-server.js';
import { LoadGenClient } from './loadgen-client.js';
import { markdownTables, svgChart, type RunReport } from './report.js';
import { historyFanout, reconnectStorm, recoveryMarkdown, STORM_FULL, type HistoryFanoutReport, type StormOptions, type StormReport } from './recovery.js';
import { benchServer, type BenchOptions } from './scenarios.js';
import { ROOT, SERVERS } from './server-process.js';

export const FULL: BenchOptions = {
  connections: 10_000, handshakes: 5000, connectConcurrency: 200, warmupMs: 2000, fanoutMs: 8000, fanoutWindow: 4,
  latencyRate: 5, latencyMs: 8000, targetedMs: 5000, targetedWindow: 64, timeoutMs: 15_000, serverCore: 0, nofile: 20_000,
};

export const QUICK: BenchOptions = {
  ...FULL, connections: 2000, handshakes: 2000, warmupMs: 1000, fanoutMs: 3000, latencyMs: 3000, targetedMs: 2000,
};

export type Part = 'servers' | 'history' | 'storm';

export interface RunArgs {
  mode: RunReport['mode']; options: BenchOptions; servers: string[]; loadgenCore: number | null; outDir: string | null; log: (s: string) => void;
  /** Which benchmarks to run; default only the server comparison (the CLI runs all three). */
  parts?: Part[]; storm?: StormOptions; historyRounds?: number;
}

export interface RecoveryRun { startedAt: string; mode: RunReport['mode']; history: HistoryFanoutReport | null; storm: StormReport | null }

export async function runBench(args: RunArgs): Promise<RunReport & { recovery?: RecoveryRun }> {
  const parts = args.parts ?? ['servers'];
  const specs = parts.includes('servers') ? SERVERS.filter((s) => args.servers.includes(s.name)) : [];
  const report: RunReport = {
    startedAt: new Date().toISOString(), mode: args.mode,
    machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, node: process.version },
    options: { ...args.options }, servers: [], skipped: [],
  };
  if (specs.some((s) => s.name === 'portico-ws') && !fs.existsSync(path.join(ROOT, 'dist', 'cli', 'main.js'))) {
    throw new Error('dist/cli/main.js is missing: run `npm run build` first');
  }
  const redis = await startRedisServer();
  const loadgen = LoadGenClient.start(args.loadgenCore, args.options.nofile);
  const recovery: RecoveryRun = { startedAt: report.startedAt, mode: args.mode, history: null, storm: null };
  try {
    for (const spec of specs) {
      args.log(`${spec.label}`);
      try {
        report.servers.push(await benchServer(spec, redis.port, loadgen, args.options, args.log));
      } catch (err) {
        args.log(`  skipped: ${(err as Error).message}`);
        report.skipped.push({ name: spec.name, reason: (err as Error).message.split('\n')[0]! });
      }
    }
    if (parts.includes('history')) {
      args.log('fan-out, stream history off vs on');
      recovery.history = await historyFanout(redis.port, loadgen, args.options, args.historyRounds ?? 2, args.log);
    }
    if (parts.includes('storm')) {
      args.log('reconnect storm');
      recovery.storm = await reconnectStorm(redis.port, loadgen, args.options, args.storm ?? STORM_FULL, args.log);
    }
  } finally {
    await loadgen.stop();
    await redis.stop('SIGTERM');
  }
  if (args.outDir && (recovery.history || recovery.storm)) {
    fs.mkdirSync(args.outDir, { recursive: true });
    fs.writeFileSync(path.join(args.outDir, `recovery-${args.mode}.json`), `${JSON.stringify(recovery, null, 2)}\n`);
    fs.writeFileSync(path.join(args.outDir, `recovery-${args.mode}.md`), `${recoveryMarkdown(recovery.history, recovery.storm)}\n`);
  }
  if (args.outDir && specs.length > 0) {
    fs.mkdirSync(args.outDir, { recursive: true });
    fs.writeFileSync(path.join(args.outDir, `${args.mode}.json`), `${JSON.stringify(report, null, 2)}\n`);
    fs.writeFileSync(path.join(args.outDir, `${args.mode}.svg`), `${svgChart(report)}\n`);
    fs.writeFileSync(path.join(args.outDir, `${args.mode}.md`), `${markdownTables(report)}\n`);
  }
  return { ...report, recovery };
}

function parseArgs(argv: string[]): RunArgs {
  const get = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const quick = argv.includes('--quick');
  const options: BenchOptions = { ...(quick ? QUICK : FULL) };
  const connections = get('connections');
  if (connections) options.connections = Math.min(Number(connections), 18_000);
  const outDir = path.resolve(get('out') ?? path.join(ROOT, 'bench', 'results'));
  if (argv.includes('--profile')) options.profileDir = path.join(outDir, 'profiles');
  const servers = get('servers')?.split(',') ?? SERVERS.map((s) => s.name);
  const entry = get('portico-entry');
  if (entry) SERVERS.find((s) => s.name === 'portico-ws')!.args = [path.resolve(entry), 'start'];
  const stormClients = get('storm-clients');
  const storm: StormOptions = {
    ...STORM_FULL, clients: stormClients ? Math.min(Number(stormClients), 18_000) : quick ? 2000 : STORM_FULL.clients, burst: argv.includes('--storm-burst'),
  };
  const parts = (get('only')?.split(',') ?? ['servers', 'history', 'storm']) as Part[];
  const mode: RunReport['mode'] = connections || stormClients || get('servers') ? 'custom' : quick ? 'quick' : 'full';
  const historyRounds = Number(get('history-rounds') ?? 2);
  const window = get('window');
  if (window) options.fanoutWindow = Number(window);
  return { mode, options, servers, loadgenCore: 1, outDir, parts, storm, historyRounds, log: (s) => process.stdout.write(`${s}\n`) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = parseArgs(process.argv.slice(2));
  if (os.cpus().length < 2) {
    args.options.serverCore = null;
    args.loadgenCore = null;
  }
  runBench(args).then((report) => {
    if (report.servers.length > 0) process.stdout.write(`\n${markdownTables(report)}\n\nResults written to ${path.relative(process.cwd(), args.outDir!)}/${report.mode}.{json,svg,md}\n`);
    const { history, storm } = report.recovery ?? { history: null, storm: null };
    if (history || storm) process.stdout.write(`\n${recoveryMarkdown(history, storm)}\n\nWritten to ${path.relative(process.cwd(), args.outDir!)}/recovery-${report.mode}.{json,md}\n`);
    process.exit(report.servers.length > 0 || history || storm ? 0 : 1);
  }, (err: Error) => {
    process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
    process.exit(1);
  });
}
