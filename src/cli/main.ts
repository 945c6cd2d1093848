#!/usr/bin/env node
/** The `portico-ws` command: a table of sub-commands, each in its own module. */
import { ConfigError, describeConfig } from '../server/config/index.js';
import { startForeground } from './start.js';

interface Command { summary: string; usage: string; run(args: string[]): Promise<number> }

const commands: Record<string, Command> = {
  start: {
    summary: 'Run the gateway in the foreground',
    usage: 'portico-ws start',
    run: () => startForeground(),
  },
  config: {
    summary: 'List every configuration variable with its default',
    usage: 'portico-ws config',
    run: async () => {
      for (const v of describeConfig()) process.stdout.write(`${v.name.padEnd(28)} ${v.default.padEnd(22)} ${v.meaning}\n`);
      return 0;
    },
  },
};

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
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`Usage: ${command.usage}\n\n${command.summary}\n`);
    return 0;
  }
  return command.run(args);
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    if (err instanceof ConfigError) process.stderr.write(`portico-ws: ${err.message}\n`);
    else process.stderr.write(`portico-ws: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = err instanceof ConfigError ? 2 : 1;
  },
);
