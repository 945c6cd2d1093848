#!/usr/bin/env node
/**
 * The `portico-ws` command: a table of sub-commands, each in its own module. This is the CLI's
 * composition root: the only place it reads `process.env` (into a CliContext).
 */
import { describePublisherEnv } from '../publisher/env.js';
import { ConfigError, describeConfig } from '../server/config/index.js';
import { parseArgs, UsageError } from './args.js';
import { createCliContext } from './context.js';
import { restartDaemon, startDaemon, statusCommand, stopDaemon } from './daemon.js';
import { healthCommand } from './health.js';
import { logsCommand } from './logs.js';
import { sendCommand } from './send.js';
import { describeCliSettings } from './settings.js';
import { startForeground } from './start.js';

interface Command { summary: string; usage: string; details?: string; run(args: string[]): Promise<number> }

const ctx = () => createCliContext(process.env);

const commands: Record<string, Command> = {
  start: {
    summary: 'Run the gateway (in the foreground, or as a daemon with --daemon)',
    usage: 'portico-ws start [--daemon]',
    details: [
      'Without options the gateway runs in the foreground until SIGTERM/SIGINT (use this under systemd or Docker).',
      '  --daemon, -d   Run in the background: pid in WSS_PID_FILE, output appended to WSS_LOG_FILE;',
      '                 waits until /health answers with the new process\'s pid (WSS_START_TIMEOUT_MS);',
      '                 refuses while one runs; exit 1 with the reason (e.g. EADDRINUSE) when it fails.',
    ].join('\n'),
    run: async (args) => {
      const { flags, positionals } = parseArgs(args, { booleans: { daemon: ['--daemon', '-d'] } });
      if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
      return flags.daemon ? startDaemon(ctx()) : startForeground();
    },
  },
  stop: {
    summary: 'Stop the daemon started with "start --daemon"',
    usage: 'portico-ws stop',
    details: 'Sends SIGTERM to the pid in WSS_PID_FILE (only if it is a portico-ws gateway), waits\nWSS_STOP_TIMEOUT_MS, then SIGKILL. Exit 0 also when it was not running.',
    run: async (args) => noArgs(args, () => stopDaemon(ctx())),
  },
  restart: {
    summary: 'Stop the daemon (if running) and start it again',
    usage: 'portico-ws restart',
    run: async (args) => noArgs(args, () => restartDaemon(ctx())),
  },
  status: {
    summary: 'Is the daemon running and does /health answer?',
    usage: 'portico-ws status',
    details: 'Exit 0: running and healthy; 1: running but /health does not answer; 3: not running.',
    run: async (args) => noArgs(args, () => statusCommand(ctx())),
  },
  logs: {
    summary: 'Show the daemon\'s log file',
    usage: 'portico-ws logs [-f] [-n N]',
    details: [
      '  -n N, --lines N   Show the last N lines (default 50)',
      '  -f, --follow      Keep printing lines as they are written (Ctrl-C to stop); waits for a missing file',
      'Exit 0 when shown (or followed until Ctrl-C), 1 when there is no log file (without -f).',
    ].join('\n'),
    run: async (args) => {
      const { flags, values, positionals } = parseArgs(args, { booleans: { follow: ['-f', '--follow'] }, values: { lines: ['-n', '--lines'] } });
      if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
      const lines = values.lines === undefined ? 50 : Number(values.lines);
      if (!Number.isInteger(lines) || lines < 0) throw new UsageError(`-n needs a whole number, got "${values.lines}"`);
      return logsCommand(ctx(), { follow: flags.follow === true, lines });
    },
  },
  health: {
    summary: 'Check /health; with --restart, restart the daemon when unhealthy (for cron)',
    usage: 'portico-ws health [--restart] [--quiet]',
    details: [
      '  --restart, -r   When unhealthy: stop the daemon this CLI started (if any) and start a new one',
      '  --quiet, -q     Print nothing when healthy (so cron mails only about restarts)',
      'Exit 0 when healthy or restarted healthy, 1 otherwise.',
    ].join('\n'),
    run: async (args) => {
      const { flags, positionals } = parseArgs(args, { booleans: { restart: ['--restart', '-r'], quiet: ['--quiet', '-q'] } });
      if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
      return healthCommand(ctx(), { restart: flags.restart === true, quiet: flags.quiet === true });
    },
  },
  send: {
    summary: 'Broadcast a notification (like send_notification.php)',
    usage: 'portico-ws send <message> [type] [data_json]',
    details: [
      'Publishes {"type":type,"message":message,"data":data} on the notifications channel: through Redis',
      '(REDIS_URL or REDIS_HOST), else the HTTP endpoint (WSS_PUBLISH_URL, or this host\'s gateway when',
      'WSS_PUBLISH_TOKEN is set), else a spool file in WSS_SPOOL_DIR. type defaults to "notification";',
      'data_json must be a JSON object. Invalid JSON: message and exit 1.',
      'Example: portico-ws send "New booking created" notification \'{"id": 42}\'',
    ].join('\n'),
    run: async (args) => sendCommand(ctx(), parseArgs(args, {}).positionals),
  },
  config: {
    summary: 'List every configuration variable with its default',
    usage: 'portico-ws config',
    run: async () => {
      const seen = new Set<string>();
      const print = (title: string, docs: Array<{ name: string; default: string; meaning: string }>) => {
        const fresh = docs.filter((v) => !seen.has(v.name));
        if (fresh.length === 0) return;
        process.stdout.write(`${title}\n`);
        for (const v of fresh) {
          seen.add(v.name);
          process.stdout.write(`${v.name.padEnd(28)} ${v.default.padEnd(22)} ${v.meaning}\n`);
        }
      };
      print('# gateway', describeConfig());
      print('\n# command line (start --daemon, stop, status, logs, health)', describeCliSettings());
      print('\n# send / publisher library', describePublisherEnv());
      return 0;
    },
  },
};

async function noArgs(args: string[], run: () => Promise<number>): Promise<number> {
  const { positionals } = parseArgs(args, {});
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
  return run();
}

function help(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `Usage: portico-ws <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun "portico-ws <command> --help" for a command's options.\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help());
    return name ? 0 : 1;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`portico-ws: unknown command "${name}"\n\n${help()}`);
    return 1;
  }
  const dashDash = args.indexOf('--');
  const flagArgs = dashDash < 0 ? args : args.slice(0, dashDash);
  if (flagArgs.includes('--help') || flagArgs.includes('-h')) {
    process.stdout.write(`Usage: ${command.usage}\n\n${command.summary}\n${command.details ? `\n${command.details}\n` : ''}`);
    return 0;
  }
  try {
    return await command.run(args);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`portico-ws ${name}: ${err.message}\nUsage: ${command.usage}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    if (err instanceof ConfigError) process.stderr.write(`portico-ws: ${err.message}\n`);
    else process.stderr.write(`portico-ws: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = err instanceof ConfigError ? 2 : 1;
  },
);
