/**
 * Publisher settings from environment variables, for applications and the CLI that configure it
 * the way PorticoEstate does (REDIS_HOST/REDIS_PORT). Read only when asked: the library itself
 * never touches `process.env` unless the default publisher is used.
 */
import os from 'node:os';
import { ConfigReader, documentVariables, type VariableDoc } from '../server/config/reader.js';
import type { Env } from '../server/config/parse.js';
import { readRedis } from '../server/config/index.js';
import { redisConnectionOptions } from '../server/redis/client.js';
import type { PublisherOptions } from './publisher.js';

function build(r: ConfigReader): PublisherOptions {
  // The gateway's own REDIS_* parser: the same names, defaults and meaning.
  const redis = readRedis(r);
  const publishUrl = r.optional('WSS_PUBLISH_URL', 'Gateway publish endpoint (e.g. http://127.0.0.1:8080/publish), tried when Redis fails');
  const token = r.optional('WSS_PUBLISH_TOKEN', 'Bearer token of the publish endpoint (the gateway\'s WSS_PUBLISH_TOKEN)');
  const spoolDir = r.string('WSS_SPOOL_DIR', os.tmpdir(), 'Spool folder written when Redis and HTTP fail');
  const spoolEnabled = r.bool('WSS_PUBLISH_SPOOL', true, 'Fall back to spool files at all');
  const timeoutMs = r.int('WSS_PUBLISH_TIMEOUT_MS', 2000, 50, 120_000, 'Per-path timeout for Redis and HTTP publishing');
  return {
    redis: redis.enabled ? redisConnectionOptions(redis) : undefined,
    http: publishUrl && token ? { url: publishUrl, token } : undefined,
    spoolDir: spoolEnabled ? spoolDir : false,
    timeoutMs,
  };
}

/** Publisher options from `env`; throws ConfigError naming a bad variable. */
export function publisherOptionsFromEnv(env: Env): PublisherOptions {
  return build(new ConfigReader(env));
}

/** The variables `publisherOptionsFromEnv` reads, with defaults and meaning. */
export function describePublisherEnv(): VariableDoc[] {
  return documentVariables(build);
}
