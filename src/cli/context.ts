/** What every command gets: the environment, the gateway config, the CLI settings and the output. */
import type { Config, Env } from '../server/config/index.js';
import { loadConfig } from '../server/config/index.js';
import { consoleOutput, type Output } from './output.js';
import { healthUrlFor, loadCliSettings, type CliSettings } from './settings.js';

export interface CliContext {
  env: Env;
  config: Config;
  settings: CliSettings;
  healthUrl: string;
  io: Output;
}

/** Built once per invocation at the CLI's composition root; throws ConfigError for bad settings. */
export function createCliContext(env: Env): CliContext {
  const config = loadConfig(env);
  const settings = loadCliSettings(env);
  return { env, config, settings, healthUrl: healthUrlFor(config, settings), io: consoleOutput(env) };
}
