/**
 * The second delivery path: the gateway's `POST /publish` endpoint, for hosts that cannot reach
 * Redis but can reach a gateway. With Redis behind the gateway the message reaches every instance.
 */
import type { LegacyChannel } from '../protocol/constants.js';
import type { JsonObject } from '../protocol/types.js';

export interface HttpPathOptions {
  /** Full endpoint URL, e.g. `http://127.0.0.1:8080/publish`. */
  url: string;
  /** The gateway's WSS_PUBLISH_TOKEN, sent as `Authorization: Bearer …`. */
  token: string;
  /** Request timeout, ms. Default 5000. */
  timeoutMs?: number;
}

/** A non-2xx answer from the endpoint, with its status and JSON error body. */
export class HttpPublishError extends Error {
  constructor(readonly status: number, readonly body: string) {
    super(`publish endpoint answered HTTP ${status}: ${body.slice(0, 200)}`);
    this.name = 'HttpPublishError';
  }
}

export class HttpPath {
  constructor(private readonly opts: HttpPathOptions) {
    new URL(opts.url); // throws TypeError early for a malformed URL
  }

  async publish(channel: LegacyChannel, payload: JsonObject): Promise<void> {
    const res = await fetch(this.opts.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.opts.token}` },
      body: JSON.stringify({ channel, payload }),
      signal: AbortSignal.timeout(this.opts.timeoutMs ?? 5000),
    });
    const body = await res.text();
    if (!res.ok) throw new HttpPublishError(res.status, body);
  }
}
