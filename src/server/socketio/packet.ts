/**
 * A message as Socket.IO clients receive it: the event `message` in the default namespace, i.e.
 * the Socket.IO packet `2["message",<json>]`, carried in the Engine.IO message packet `4…`.
 * Built once per delivery and handed to every Socket.IO recipient's Engine.IO socket: the text
 * for the polling transport, and the complete WebSocket frame for the websocket transport, which
 * engine.io writes as is (its `wsPreEncodedFrame` option, the one Socket.IO's own broadcasts use).
 */
import { encodeTextFrame } from '../fanout.js';

export interface SocketIoPacket {
  /** The Socket.IO packet (Engine.IO message payload). */
  readonly data: string;
  /** The complete WebSocket text frame of `4<data>`. */
  readonly frame: Buffer;
  /** Write options shared by every recipient of this packet. */
  readonly options: { wsPreEncodedFrame: readonly Buffer[]; compress?: boolean };
}

/** `2["message",<json>]` around already-serialised JSON. */
export function messageEvent(json: string): string {
  return `2["message",${json}]`;
}

export function socketIoPacket(json: string): SocketIoPacket {
  const data = messageEvent(json);
  const frame = encodeTextFrame(`4${data}`);
  // ws's Sender.sendFrame takes the frame as a list of buffers (here: header and payload in one).
  return { data, frame, options: { wsPreEncodedFrame: [frame] } };
}
