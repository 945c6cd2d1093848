/**
 * Redis legacy-channel ingress: subscribes `notifications`, `session_messages` and `room_messages`
 * (the channels PorticoEstate's PHP code PUBLISHes plain JSON strings on) on the instance's one
 * subscriber connection, the one the broker uses, and hands each text to `Ingress.handleText`.
 * Every instance receives these itself: each message is offered with its claim (legacy-claims.ts)
 * so that exactly one instance enters it into history. A payload that
 * cannot be delivered is logged (at most a few lines a minute) and dropped; it never stops the
 * subscription.
 */
import { CHANNELS, type LegacyChannel } from '../../protocol/constants.js';
import type { Logger } from '../log.js';
import type { RedisLink } from '../redis/link.js';
import { ThrottledLog } from '../redis/throttled-log.js';
import type { ExternalIngress } from './external.js';
import { IngressError, type Ingress } from './ingress.js';
import { LegacyClaims } from './legacy-claims.js';

export class RedisIngress implements ExternalIngress {
  readonly name = 'redis';
  private readonly rejected: ThrottledLog;
  private ingress: Ingress | null = null;
  private readonly claims = new LegacyClaims();

  /** `withClaims`: history is on, so the instances must agree on who enters each message. */
  constructor(private readonly link: RedisLink, private readonly log: Logger, private readonly withClaims: boolean, private readonly channels: readonly LegacyChannel[] = CHANNELS) {
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
    const claim = this.withClaims ? this.claims.next(channel, text) : undefined;
    this.ingress.handleText(channel, text, 'redis', claim).catch((err: unknown) => {
      // Payload text is not logged: it may carry session ids.
      if (err instanceof IngressError) this.rejected.warn({ channel, bytes: text.length, reason: err.message }, 'redis payload ignored');
      else this.rejected.warn({ channel, err }, 'redis payload could not be delivered');
    });
  }
}
