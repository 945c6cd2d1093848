/**
 * `portico-ws send <message> [type] [data_json]`: the original send_notification.php, through
 * the publisher library (Redis → HTTP publish → spool file). Invalid data_json: message, exit 1.
 */
import type { JsonObject } from '../protocol/types.js';
import { PublishError, PublisherArgumentError, createPublisher, publisherOptionsFromEnv } from '../publisher/index.js';
import type { CliContext } from './context.js';

export async function sendCommand(ctx: CliContext, args: string[]): Promise<number> {
  const { io } = ctx;
  const [message, type = 'notification', dataJson] = args;
  if (!message) {
    io.err('usage: portico-ws send <message> [type] [data_json]');
    return 1;
  }
  let data: JsonObject = {};
  if (dataJson !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(dataJson);
    } catch (err) {
      io.err(io.errColor.bad(`Invalid JSON data: ${(err as Error).message}`));
      return 1;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      io.err(io.errColor.bad('Invalid JSON data: must be a JSON object, e.g. {"id": 42}'));
      return 1;
    }
    data = parsed as JsonObject;
  }

  const options = publisherOptionsFromEnv(ctx.env);
  // On the gateway's own host the endpoint is known: use it when a token is configured.
  if (!options.http && ctx.config.publish.token) {
    options.http = { url: new URL('/publish', ctx.healthUrl).toString(), token: ctx.config.publish.token };
  }
  const publisher = createPublisher(options);
  try {
    const result = await publisher.sendWebSocketNotification(message, data, type);
    for (const f of result.fallbacks) io.err(io.errColor.warn(`${f.path} failed: ${f.error}`));
    if (result.path === 'redis') {
      io.out(io.outColor.ok(`sent via redis to ${result.receivers} subscriber(s)`));
      if (result.receivers === 0) io.err(io.errColor.warn('warning: no gateway is subscribed to Redis; nobody received it'));
    } else if (result.path === 'http') {
      io.out(io.outColor.ok('sent via the HTTP publish endpoint'));
    } else {
      io.out(io.outColor.ok(`written to spool file ${result.file}`));
    }
    return 0;
  } catch (err) {
    if (err instanceof PublisherArgumentError || err instanceof PublishError) {
      io.err(io.errColor.bad(err.message));
      return 1;
    }
    throw err;
  } finally {
    await publisher.close();
  }
}
