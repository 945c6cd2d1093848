/**
 * The Redis parts of a gateway, built from `config.redis` and `config.delivery`: the broker and the
 * legacy-channel ingress, sharing one publisher and one subscriber connection. Bootstrap uses
 * this; so do tests that run several gateways against one private redis-server.
 */
import { RedisBroker } from '../broker/redis.js';
import { defaultConfig, type DeliveryConfig, type RedisConfig } from '../config/index.js';
import type { ExternalIngress } from '../ingress/external.js';
import { CLAIM_TTL_MS } from '../ingress/legacy-claims.js';
import { RedisIngress } from '../ingress/redis.js';
import type { Logger } from '../log.js';
import { historySettings } from '../broker/history-settings.js';
import { RedisLink } from './link.js';

export interface RedisDependencies {
  broker: RedisBroker;
  ingressSources: ExternalIngress[];
  link: RedisLink;
}

/** Name of the channel the instances exchange publications on. */
export const clusterChannel = (config: RedisConfig): string => `${config.prefix}bus`;

export function createRedisDependencies(config: RedisConfig, log: Logger, instanceId: string, delivery: DeliveryConfig = defaultConfig().delivery): RedisDependencies {
  const link = new RedisLink(config, log, instanceId);
  const broker = new RedisBroker(link, {
    instanceId, prefix: config.prefix, maxPendingPublishes: config.maxPendingPublishes, log,
    history: historySettings(delivery), outageBuffer: delivery.outageBuffer, claimTtlMs: CLAIM_TTL_MS,
  });
  return { broker, ingressSources: [new RedisIngress(link, log, broker.historyEnabled)], link };
}
