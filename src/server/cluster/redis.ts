/**
 * The cluster channel over Redis pub/sub, on the instance's existing Redis link: requests on
 * `<REDIS_PREFIX>cluster`, answers on `<REDIS_PREFIX>cluster:<instance id>` (only the asker
 * subscribes to its own). Nothing is queued: while Redis is down a request reaches no other
 * instance and the asker lists them as not answering.
 */
import type { Logger } from '../log.js';
import type { RedisLink } from '../redis/link.js';
import { ThrottledLog } from '../redis/throttled-log.js';
import { ClusterChannelBase, decodeClusterMessage, type ClusterResponder, type ClusterWireMessage } from './channel.js';

export class RedisClusterChannel extends ClusterChannelBase {
  private readonly requests: string;
  private readonly warnings: ThrottledLog;
  private started = false;

  constructor(private readonly link: RedisLink, instanceId: string, private readonly prefix: string, log: Logger) {
    super(instanceId);
    this.requests = `${prefix}cluster`;
    this.warnings = new ThrottledLog(log);
  }

  private answersFor(instanceId: string): string {
    return `${this.prefix}cluster:${instanceId}`;
  }

  override async start(respond: ClusterResponder): Promise<void> {
    await super.start(respond);
    await this.link.subscriber.subscribe(this.requests, this.onText);
    await this.link.subscriber.subscribe(this.answersFor(this.instanceId), this.onText);
    this.started = true;
    await this.link.open();
  }

  override async close(): Promise<void> {
    if (this.started) {
      this.started = false;
      await this.link.subscriber.unsubscribe(this.requests);
      await this.link.subscriber.unsubscribe(this.answersFor(this.instanceId));
      await this.link.close();
    }
    await super.close();
  }

  protected sendRequest(message: ClusterWireMessage & { t: 'req' }): void {
    this.publish(this.requests, message);
  }

  protected sendAnswer(to: string, message: ClusterWireMessage & { t: 'res' }): void {
    this.publish(this.answersFor(to), message);
  }

  private publish(channel: string, message: ClusterWireMessage): void {
    if (!this.link.canPublish) return; // the asker's timeout says "not answering"
    this.link.publisher.client.publish(channel, JSON.stringify(message), (err) => {
      if (err) this.warnings.warn({ channel, err: err.message }, 'cluster message not sent');
    });
  }

  private readonly onText = (text: string): void => {
    const message = decodeClusterMessage(text);
    if (message === null) {
      this.warnings.warn({ bytes: text.length }, 'ignored a cluster message this version cannot decode');
      return;
    }
    this.receive(message);
  };
}
