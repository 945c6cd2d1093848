/**
 * `portico-ws health [--restart] [--quiet]`: what cron runs instead of the original
 * health_check.sh. Exit 0 when /health answers; otherwise exit 1, or with --restart stop the
 * daemon this CLI started (if any), start a new one, and exit 0 only if it came up healthy.
 */
import type { CliContext } from './context.js';
import { startDaemon, stopDaemon } from './daemon.js';
import { checkHealth, describeReport } from './health-check.js';
import { readPidFile } from './pid-file.js';

export async function healthCommand(ctx: CliContext, opts: { restart: boolean; quiet: boolean }): Promise<number> {
  const { io, settings } = ctx;
  const health = await checkHealth(ctx.healthUrl, settings.healthTimeoutMs);
  if (health.ok) {
    if (!opts.quiet) io.out(io.outColor.ok('healthy') + ` — ${describeReport(health.report)}`);
    return 0;
  }
  io.out(io.outColor.bad(`unhealthy: ${health.reason}`));
  if (!opts.restart) return 1;

  const stamp = new Date().toISOString();
  io.out(`${stamp} restarting portico-ws`);
  if (readPidFile(settings.pidFile).state === 'running') {
    const stopped = await stopDaemon(ctx);
    if (stopped !== 0) {
      io.out(io.outColor.bad('restart failed: could not stop the running gateway'));
      return 1;
    }
  }
  const started = await startDaemon(ctx);
  if (started !== 0) {
    io.out(io.outColor.bad('restart failed: the gateway did not come up healthy'));
    return 1;
  }
  io.out(io.outColor.ok('restarted'));
  return 0;
}
