/**
 * The Redis parts of a gateway, built from `config.redis`: the bus, the legacy-channel ingress and
 * the cluster channel, sharing one publisher and one subscriber connection. Bootstrap uses this; so do tests that run
 * several gateways against one private redis-server.
 */
import { RedisBus } from '../bus/redis.js';
import { RedisClusterChannel } from '../cluster/redis.js';
import type { RedisConfig } from '../config/index.js';
import type { ExternalIngress } from '../ingress/external.js';
import { RedisIngress } from '../ingress/redis.js';
import type { Logger } from '../log.js';
import { RedisLink } from './link.js';

export interface RedisDependencies {
  bus: RedisBus;
  ingressSources: ExternalIngress[];
  link: RedisLink;
  /** Request/response between instances (the admin view), on channels of its own. */
  cluster: RedisClusterChannel;
}

/** Name of the channel the instances exchange bus envelopes on. */
export const clusterChannel = (config: RedisConfig): string => `${config.prefix}bus`;

export function createRedisDependencies(config: RedisConfig, log: Logger, instanceId: string): RedisDependencies {
  const link = new RedisLink(config, log, instanceId);
  const bus = new RedisBus(link, { instanceId, channel: clusterChannel(config), maxPendingPublishes: config.maxPendingPublishes, log });
  const cluster = new RedisClusterChannel(link, instanceId, config.prefix, log);
  return { bus, ingressSources: [new RedisIngress(link, log)], link, cluster };
}
