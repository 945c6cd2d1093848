/**
 * The seam between the client's state machine and the browser. The browser implementation is in
 * browser-environment.ts; unit tests run the state machine in Node against a small fake. Nothing
 * here names a DOM type, so this file (and client.ts) type-check with or without the DOM lib.
 */

/** Opaque timer handle: a number in browsers, an object in Node. */
export type TimerHandle = unknown;

/** The part of the WebSocket API the client uses (readyState 0..3 as in the standard). */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string; wasClean: boolean }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

/** What `#connection-status` shows; `state` also lands in its `data-state` attribute. */
export interface StatusView {
  text: string;
  state: 'connecting' | 'connected' | 'reconnecting' | 'disconnected';
  color: string;
}

export interface ClientEnvironment {
  /** Default URL when the page passes none: `ws(s)://<page host>/wss`. */
  defaultUrl(): string;
  createSocket(url: string): SocketLike;
  /** Dispatch `CustomEvent(type, {detail})` on `window`. */
  dispatch(type: string, detail: unknown): void;
  /** Call `listener` when the browser comes back online; returns the remover. */
  onOnline(listener: () => void): () => void;
  /** Update the page's `#connection-status` element if it has one. */
  showStatus(view: StatusView): void;
  /** The user id the page exposes (see user-id.ts), or null. */
  findUserId(): string | number | null;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle): void;
  random(): number;
  /** Debug output; only called when the client's `debug` option is on. */
  log(...args: unknown[]): void;
}
