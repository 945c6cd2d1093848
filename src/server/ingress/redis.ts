/**
 * Redis legacy-channel ingress: subscribes `notifications`, `session_messages` and `room_messages`
 * (the channels PorticoEstate's PHP code PUBLISHes plain JSON strings on) on the instance's one
 * subscriber connection, the one the bus uses, and hands each text to `Ingress.handleText`.
 * Every instance receives these itself, so the ingress delivers them locally only. A payload that
 * cannot be delivered is logged (at most a few lines a minute) and dropped; it never stops the
 * subscription.
 */
import { CHANNELS, type LegacyChannel } from '../../protocol/constants.js';
import type { Logger } from '../log.js';
import type { RedisLink } from '../redis/link.js';
import { ThrottledLog } from '../redis/throttled-log.js';
import type { ExternalIngress } from './external.js';
import { IngressError, type Ingress } from './ingress.js';

export class RedisIngress implements ExternalIngress {
  readonly name = 'redis';
  private readonly rejected: ThrottledLog;
  private ingress: Ingress | null = null;

  constructor(private readonly link: RedisLink, private readonly log: Logger, private readonly channels: readonly LegacyChannel[] = CHANNELS) {
    this.rejected = new ThrottledLog(log);
  }

  async start(ingress: Ingress): Promise<void> {
    this.ingress = ingress;
    for (const channel of this.channels) {
      await this.link.subscriber.subscribe(channel, (text) => this.receive(channel, text));
    }
    await this.link.open();
    this.log.info({ channels: this.channels }, 'redis ingress started (subscribed whenever Redis is connected)');
  }

  async close(): Promise<void> {
    for (const channel of this.channels) await this.link.subscriber.unsubscribe(channel);
    await this.link.close();
    this.rejected.flush();
    this.ingress = null;
  }

  private receive(channel: LegacyChannel, text: string): void {
    if (!this.ingress) return;
    this.ingress.handleText(channel, text, 'redis').catch((err: unknown) => {
      // Payload text is not logged: it may carry session ids.
      if (err instanceof IngressError) this.rejected.warn({ channel, bytes: text.length, reason: err.message }, 'redis payload ignored');
      else this.rejected.warn({ channel, err }, 'redis payload could not be delivered');
    });
  }
}
