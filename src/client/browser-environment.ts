/** The real browser behind the client's environment seam: WebSocket, window events, the page's DOM. */
import type { ClientEnvironment, SocketLike, StatusView } from './environment.js';
import { findUserIdOnPage } from './user-id.js';

export function createBrowserEnvironment(win: Window = window): ClientEnvironment {
  const doc = win.document;
  return {
    defaultUrl: () => `${win.location.protocol === 'https:' ? 'wss:' : 'ws:'}//${win.location.host}/wss`,
    createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
    dispatch: (type, detail) => { win.dispatchEvent(new CustomEvent(type, { detail })); },
    onOnline: (listener) => {
      win.addEventListener('online', listener);
      return () => win.removeEventListener('online', listener);
    },
    showStatus: (view: StatusView) => {
      const element = doc.getElementById('connection-status');
      if (!element) return;
      element.textContent = view.text;
      element.style.color = view.color;
      element.setAttribute('data-state', view.state);
    },
    findUserId: () => findUserIdOnPage(doc, win),
    setTimeout: (fn, ms) => win.setTimeout(fn, ms),
    clearTimeout: (handle) => win.clearTimeout(handle as number),
    setInterval: (fn, ms) => win.setInterval(fn, ms),
    clearInterval: (handle) => win.clearInterval(handle as number),
    random: () => Math.random(),
    log: (...args) => console.log(...args),
  };
}
