/**
 * Builds a gateway's real dependencies from the config: the broker (memory, or Redis when
 * configured) and the data store (disabled, or PostgreSQL when configured).
 */
import type { Config } from './config/index.js';
import type { GatewayDeps } from './gateway.js';
import type { Logger } from './log.js';
import { createDatabaseStore } from './data/postgres-dependencies.js';
import { createMetrics } from './metrics.js';
import { createRedisDependencies } from './redis/dependencies.js';

export async function buildDependencies(config: Config, log: Logger): Promise<GatewayDeps> {
  const deps: GatewayDeps = { log };
  if (config.metrics.enabled) deps.observer = createMetrics({ labels: { instance: config.instanceId } });
  if (config.redis.enabled) {
    const { broker, ingressSources } = createRedisDependencies(config.redis, log, config.instanceId, config.delivery);
    deps.broker = broker;
    deps.ingressSources = [...(deps.ingressSources ?? []), ...ingressSources];
  }
  if (config.database.enabled) deps.store = await createDatabaseStore(config.database, log);
  return deps;
}
