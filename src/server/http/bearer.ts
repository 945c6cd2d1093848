/** `Authorization: Bearer <token>` checks for the gateway's token-protected endpoints. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export type BearerVerdict = 'ok' | 'missing' | 'wrong';

/**
 * Compares the presented token with the configured one in constant time: both are hashed first,
 * so neither their contents nor their lengths show in the comparison's timing.
 */
export class BearerToken {
  private readonly expected: Buffer;

  constructor(token: string) {
    this.expected = digest(token);
  }

  check(req: IncomingMessage): BearerVerdict {
    const presented = bearerToken(req.headers.authorization);
    if (presented === null) return 'missing';
    return timingSafeEqual(digest(presented), this.expected) ? 'ok' : 'wrong';
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function bearerToken(header: string | undefined): string | null {
  const match = header ? /^Bearer[ \t]+(\S+)\s*$/i.exec(header) : null;
  return match ? match[1]! : null;
}

/** Body larger than the limit. */
export class BodyTooLarge extends Error {}

/** The request body as text, refusing (BodyTooLarge) as soon as it exceeds `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new BodyTooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}
