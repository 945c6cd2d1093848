/**
 * Gathers publications into calls of the publish script (scripts.ts). Under load a single read
 * of the subscriber socket carries dozens of legacy messages, each becoming a publication; one
 * script call per publication cost Redis a command dispatch and the gateway a command object,
 * encoding and reply each, more than the work inside the script. A call leaves as soon as it
 * holds MAX_BATCH publications, the rest of a turn's from a microtask at the end of it.
 */

/** One publication's keys and fields, in the order PUBLISH_SCRIPT reads them (see there). */
export interface ScriptPublication {
  keys: [meta: string, stream: string, claim: string];
  fields: [
    headerPrefix: string, frame: string, streamJson: string, occurrence: number | '', id: string, exclude: string,
    deliveredAtOrigin: '' | '1', replay: '' | '1', legacyClaim: string,
  ];
}

/** PUBLISH_SCRIPT's common arguments (see there). */
export type ScriptCommon = [channel: string, size: number, ttlMs: number, metaTtlMs: number, newEpoch: string, claimTtlMs: number, origin: string];

/** Per publication: null when its claim was lost, else [offset, epoch]. */
export type PublishReply = [number, string] | null;

/** Runs the script: `keys.length` keys, then the common arguments and every publication's fields. */
export type RunScript = (keys: string[], args: Array<string | number>) => Promise<Array<[number, string] | 0>>;

/**
 * At most this many publications per call. A full call is written at once, so Redis works on it
 * while the gateway reads the rest of the burst: in a closed loop of 64 targeted messages that
 * was 25-35 % more throughput than one call per turn (calls of 8 and 32 did less than 16). It also
 * keeps a script from holding Redis for long (about 40 µs per publication).
 */
export const MAX_BATCH = 16;

interface Waiting { publication: ScriptPublication; resolve: (reply: PublishReply) => void; reject: (err: Error) => void }

export class PublishBatch {
  private waiting: Waiting[] = [];

  /** `common`: the script's first arguments, read when a batch is sent. */
  constructor(private readonly run: RunScript, private readonly common: () => ScriptCommon) {}

  send(publication: ScriptPublication): Promise<PublishReply> {
    return new Promise((resolve, reject) => {
      const waiting = this.waiting.push({ publication, resolve, reject });
      if (waiting === MAX_BATCH) this.flush();
      else if (waiting === 1) queueMicrotask(this.flush);
    });
  }

  private readonly flush = (): void => {
    const batch = this.waiting;
    if (batch.length === 0) return; // sent already, full
    this.waiting = [];
    const keys: string[] = [];
    const args: Array<string | number> = this.common();
    for (const { publication } of batch) {
      keys.push(...publication.keys);
      args.push(...publication.fields);
    }
    this.run(keys, args).then(
      (replies) => {
        if (!Array.isArray(replies) || replies.length !== batch.length) {
          const err = new Error(`the publish script answered ${Array.isArray(replies) ? replies.length : typeof replies} replies for ${batch.length} publications`);
          for (const w of batch) w.reject(err);
          return;
        }
        for (let i = 0; i < batch.length; i++) {
          const reply = replies[i]!;
          batch[i]!.resolve(reply === 0 ? null : reply);
        }
      },
      (err: Error) => { for (const w of batch) w.reject(err); },
    );
  };
}
