/** Entry of the served `client.js`: defines the global `createWebSocketClient`, as the original script did. */
import { createWebSocketClient } from './index.js';

(window as Window & { createWebSocketClient?: typeof createWebSocketClient }).createWebSocketClient = createWebSocketClient;
