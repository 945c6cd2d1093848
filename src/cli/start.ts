/** `portico-ws start`: run the gateway in the foreground until SIGTERM/SIGINT. */
import { buildDependencies } from '../server/bootstrap.js';
import { loadConfig } from '../server/config/index.js';
import { RecentLog } from '../server/admin/recent-log.js';
import { createGateway } from '../server/gateway.js';
import { createLogger } from '../server/log.js';

export async function startForeground(): Promise<number> {
  const config = loadConfig(process.env);
  const recentLog = new RecentLog();
  const log = createLogger(config.log, { recent: recentLog });
  let drained: () => void = () => {};
  const gateway = createGateway(config, { ...(await buildDependencies(config, log)), recentLog, onDrained: () => drained() });
  try {
    await gateway.start();
  } catch (err) {
    log.fatal({ err }, 'could not start');
    await gateway.close().catch(() => {});
    return 1;
  }
  return new Promise<number>((resolve) => {
    // Drained from the admin view: every connection was closed with 1012; exit so the deploy can replace us.
    drained = () => {
      log.info('drained; exiting');
      resolve(0);
    };
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        // A second signal means "now": claimed spool files are taken back after the claim timeout.
        log.warn({ signal }, 'second signal during shutdown; exiting at once');
        setTimeout(() => process.exit(1), 50); // let the log line out, then do not wait for open sockets
        return;
      }
      stopping = true;
      log.info({ signal }, 'signal received');
      gateway.close().then(() => resolve(0), (err) => {
        log.error({ err }, 'shutdown failed');
        resolve(1);
      });
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}
