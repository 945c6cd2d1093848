/**
 * The one subscriber connection of an instance, shared by the broker (its cluster channel) and the
 * legacy-channel ingress. Channels are registered with a handler; every registered channel is
 * (re)subscribed on each (re)connect before the connection counts as ready.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { RedisConnection } from './connection.js';
import { ThrottledLog } from './throttled-log.js';

/** Receives each message text of one channel. Must not throw (a throw is logged and dropped). */
export type ChannelHandler = (message: string) => void;

export class RedisSubscriber {
  readonly connection: RedisConnection;
  private readonly handlers = new Map<string, ChannelHandler>();
  private readonly handlerErrors: ThrottledLog;

  constructor(readonly client: Redis, private readonly log: Logger, livenessMs = 0) {
    this.connection = new RedisConnection(client, { role: 'subscriber', log, livenessMs, prepare: (c) => this.subscribeAll(c) });
    this.handlerErrors = new ThrottledLog(log);
    client.on('message', (channel: string, message: string) => this.dispatch(channel, message));
  }

  /** Registered channel names. */
  get channels(): string[] {
    return [...this.handlers.keys()];
  }

  /**
   * Register `handler` for `channel`. When connected, subscribes now (resolves once Redis confirmed);
   * otherwise the channel is subscribed on the next (re)connect.
   */
  async subscribe(channel: string, handler: ChannelHandler): Promise<void> {
    if (this.handlers.has(channel)) throw new Error(`redis channel "${channel}" already has a handler`);
    this.handlers.set(channel, handler);
    // ioredis-level 'ready' (not our status): a prepare() in progress may have missed this channel,
    // and a second SUBSCRIBE of the same channel is harmless.
    if (this.client.status !== 'ready') return;
    await this.client.subscribe(channel).then(() => {}, (err: Error) => {
      this.log.debug({ channel, err: err.message }, 'subscribe failed; will subscribe on reconnect');
    });
  }

  async unsubscribe(channel: string): Promise<void> {
    if (!this.handlers.delete(channel) || this.client.status !== 'ready') return;
    await this.client.unsubscribe(channel).then(() => {}, () => {});
  }

  private async subscribeAll(client: Redis): Promise<void> {
    const channels = this.channels;
    if (channels.length > 0) await client.subscribe(...channels);
  }

  private dispatch(channel: string, message: string): void {
    const handler = this.handlers.get(channel);
    if (!handler) return;
    try {
      handler(message);
    } catch (err) {
      this.handlerErrors.warn({ channel, err }, 'redis message handler failed');
    }
  }
}
