/**
 * `portico-ws start --daemon`, stop, status, health, restart and logs, as subprocesses. Every
 * test has its own port, pid file and log file (`daemonEnv`), so a failing test leaves nothing
 * behind that the next one trips over, and the tests pass in any order.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, test, type TestContext } from 'node:test';
import { CLI, runCli, spawnCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/gateway.js';
import { freePort } from '../helpers/redis-server.js';
import { quietWindow, waitFor } from '../helpers/wait.js';
import { TestClient } from '../helpers/ws-client.js';

const started = new Set<number>();
const helpers: ChildProcess[] = [];

const alive = (pid: number) => { try { process.kill(pid, 0); return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0] !== 'Z'; } catch { return false; } };
/** Still one of the gateways this file started (a pid may be reused by then). */
const ourGateway = (pid: number) => { try { return alive(pid) && fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(CLI); } catch { return false; } };

after(() => {
  // Whatever a failed test left running: only processes this file started.
  for (const pid of started) if (ourGateway(pid)) process.kill(pid, 'SIGKILL');
  for (const child of helpers) child.kill('SIGKILL');
});

/** A private daemon set-up: its own port, pid file, log file and spool folder. */
async function daemonEnv(t: TestContext) {
  const dir = tempDir('portico-ws-cli-');
  const port = await freePort();
  const pidFile = path.join(dir, 'run', 'gateway.pid');
  const env: Record<string, string> = {
    WSS_PORT: String(port), WSS_HOST: '127.0.0.1', WSS_PID_FILE: pidFile, WSS_LOG_FILE: path.join(dir, 'log', 'gateway.log'),
    WSS_SPOOL_DIR: path.join(dir, 'spool'), WSS_DEBUG_LOG_ENABLED: 'true', WSS_STOP_TIMEOUT_MS: '1500', WSS_START_TIMEOUT_MS: '20000',
    WSS_SHUTDOWN_TIMEOUT_MS: '500', REDIS_URL: '', REDIS_HOST: '', DATABASE_URL: '', DB_HOST: '', DB_NAME: '', WSS_PORTICO_CONFIG: '', NO_COLOR: '1',
  };
  fs.mkdirSync(env.WSS_SPOOL_DIR!, { recursive: true });
  const cli = (args: string[], extra: Record<string, string> = {}) => runCli(args, { ...env, ...extra }, 60_000);
  const pidInFile = () => Number(fs.readFileSync(pidFile, 'utf8').trim());
  const d = {
    env, port, pidFile, cli, pidInFile,
    startDaemon() {
      const r = cli(['start', '--daemon']);
      if (r.status === 0) started.add(pidInFile());
      return r;
    },
  };
  // Stop this test's daemon however the test ended, so a failure does not leave it running.
  t.after(() => {
    if (fs.existsSync(pidFile) && ourGateway(pidInFile())) cli(['stop']);
  });
  return d;
}

/** A daemon started for one test; fails the test if it does not start. */
async function runningDaemon(t: TestContext) {
  const d = await daemonEnv(t);
  const started = d.startDaemon();
  assert.equal(started.status, 0, started.stderr);
  return { ...d, started };
}

test('start --daemon writes the pid file, serves /health, and a second start is refused', async (t) => {
  const { cli, port, pidInFile, started } = await runningDaemon(t);
  const pid = pidInFile();
  assert.match(started.stdout, new RegExp(`portico-ws started \\(pid ${pid}\\)`));
  assert.ok(alive(pid));
  const health = await fetch(`http://127.0.0.1:${port}/health`);
  assert.equal(health.status, 200);

  const second = cli(['start', '--daemon']);
  assert.equal(second.status, 1);
  assert.match(second.stderr, new RegExp(`already running \\(pid ${pid}`));
  assert.equal(pidInFile(), pid, 'the pid file is untouched');
});

test('status and health exit 0 while it runs; health --quiet prints nothing', async (t) => {
  const { cli, pidInFile } = await runningDaemon(t);
  const status = cli(['status']);
  assert.equal(status.status, 0, status.stdout);
  assert.match(status.stdout, new RegExp(`running \\(pid ${pidInFile()}\\).*status ok`));
  const health = cli(['health']);
  assert.equal(health.status, 0);
  assert.match(health.stdout, /^healthy/);
  const quiet = cli(['health', '--quiet']);
  assert.equal(quiet.status, 0);
  assert.equal(quiet.stdout, '');
});

test('logs shows the last lines and -f follows new ones', async (t) => {
  const { cli, env, port } = await runningDaemon(t);
  const all = cli(['logs']);
  assert.equal(all.status, 0);
  assert.match(all.stdout, /portico-ws listening/);
  const one = cli(['logs', '-n', '1']);
  assert.equal(one.stdout.trimEnd().split('\n').length, 1);
  assert.equal(cli(['logs', '-n', 'x']).status, 1);

  const follower = spawnCli(['logs', '-f', '-n', '0'], env);
  helpers.push(follower);
  let out = '';
  follower.stdout!.on('data', (d) => { out += d; });
  // `logs -f` follows from the file's size when it starts, and nothing tells when that was: a line
  // written before then is never shown. So keep adding lines (one per connection) until the
  // follower prints one; each new line is written after the previous attempt, so one is late enough.
  const clients: TestClient[] = [];
  try {
    await waitFor(async () => {
      if (out.includes('connection opened')) return true;
      clients.push(await TestClient.connect(`ws://127.0.0.1:${port}/wss`));
      const shown = Date.now() + 1000; // the follower polls every 250 ms
      while (Date.now() < shown && !out.includes('connection opened')) await new Promise((r) => setTimeout(r, 25));
      return out.includes('connection opened');
    }, `logs -f to print a new line (printed: ${JSON.stringify(out)})`, 20_000);
  } finally {
    for (const c of clients) c.close();
  }
  assert.ok(!out.includes('portico-ws listening'), '-n 0 printed no old lines');
  const exited = new Promise((r) => follower.once('exit', r));
  follower.kill('SIGINT');
  await exited;
});

test('stop escalates to SIGKILL when SIGTERM is not enough', async (t) => {
  const { cli, pidInFile, pidFile } = await runningDaemon(t);
  const pid = pidInFile();
  process.kill(pid, 'SIGSTOP'); // a hung gateway: SIGTERM stays pending
  const r = cli(['stop']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /sending SIGKILL/);
  assert.match(r.stdout, /killed \(pid \d+\)/);
  assert.ok(!alive(pid));
  assert.ok(!fs.existsSync(pidFile));
});

test('health --restart brings a crashed daemon back (what cron runs)', async (t) => {
  const { cli, pidInFile } = await runningDaemon(t);
  const first = pidInFile();
  process.kill(first, 'SIGKILL'); // crash; the pid file stays behind
  await waitFor(() => !alive(first), 'the killed gateway to be gone');

  const status = cli(['status']);
  assert.equal(status.status, 3);
  assert.match(status.stdout, /stale pid file/);
  assert.equal(cli(['health']).status, 1);

  const r = cli(['health', '--restart']);
  const second = pidInFile();
  started.add(second);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /unhealthy/);
  assert.match(r.stdout, /restarted/);
  assert.notEqual(second, first);
  assert.equal(cli(['status']).status, 0);
});

test('restart replaces the process', async (t) => {
  const { cli, pidInFile } = await runningDaemon(t);
  const before = pidInFile();
  const r = cli(['restart']);
  const now = pidInFile();
  started.add(now);
  assert.equal(r.status, 0, r.stderr);
  assert.notEqual(now, before);
  assert.ok(!alive(before));
  assert.ok(alive(now));
});

test('stop never signals a process it did not start', async (t) => {
  const { cli, pidFile, startDaemon } = await daemonEnv(t);
  assert.equal(cli(['stop']).status, 0, 'nothing to stop is not an error');
  // A pid file naming some other live process (as after pid reuse).
  const stranger = spawn('sleep', ['60'], { stdio: 'ignore' });
  helpers.push(stranger);
  fs.mkdirSync(path.dirname(pidFile), { recursive: true });
  fs.writeFileSync(pidFile, `${stranger.pid}\n`);
  const r = cli(['stop']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /not a portico-ws gateway/);
  assert.match(r.stdout, /no process was signalled/);
  // `stop` has returned, so any signal was sent already; this short window only lets a signalled
  // process finish dying before we look.
  await quietWindow(200);
  assert.ok(alive(stranger.pid!), 'the stranger still runs');
  assert.equal(stranger.exitCode, null);

  // And start treats such a pid file as stale rather than as a running gateway.
  fs.writeFileSync(pidFile, `${stranger.pid}\n`);
  const s = startDaemon();
  assert.equal(s.status, 0, s.stderr);
  assert.match(s.stderr, /stale pid file/);
  assert.ok(alive(stranger.pid!));
  assert.equal(cli(['stop']).status, 0);
  assert.equal(cli(['status']).status, 3);
  assert.equal(cli(['health']).status, 1);
});

test('a daemon that cannot start is reported with its log and leaves no pid file', async (t) => {
  const { cli, port, pidFile } = await daemonEnv(t);
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', () => r()));
  try {
    const r = cli(['start', '--daemon']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /exited during start-up/);
    assert.match(r.stderr, /EADDRINUSE/);
    assert.ok(!fs.existsSync(pidFile));
  } finally {
    blocker.close();
  }
});

test('--help for every command, and unknown options are usage errors', async (t) => {
  const { cli } = await daemonEnv(t);
  for (const name of ['start', 'stop', 'restart', 'status', 'logs', 'health', 'send', 'config']) {
    const r = cli([name, '--help']);
    assert.equal(r.status, 0, name);
    assert.match(r.stdout, new RegExp(`^Usage: portico-ws ${name}`));
  }
  const bad = cli(['status', '--bogus']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /unknown option --bogus/);
  assert.ok(!cli(['status']).stdout.includes('\u001b['), 'no colour codes when not on a terminal');
});
