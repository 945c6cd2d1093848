import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runCli, spawnCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/gateway.js';
import { freePort } from '../helpers/redis-server.js';
import { TestClient } from '../helpers/ws-client.js';

let env: Record<string, string>;
let pidFile: string;
let port: number;
const started: number[] = [];
const helpers: ChildProcess[] = [];

before(async () => {
  const dir = tempDir('portico-ws-cli-');
  port = await freePort();
  pidFile = path.join(dir, 'run', 'gateway.pid');
  env = {
    WSS_PORT: String(port), WSS_HOST: '127.0.0.1', WSS_PID_FILE: pidFile, WSS_LOG_FILE: path.join(dir, 'log', 'gateway.log'),
    WSS_SPOOL_DIR: path.join(dir, 'spool'), WSS_DEBUG_LOG_ENABLED: 'true', WSS_STOP_TIMEOUT_MS: '1500', WSS_START_TIMEOUT_MS: '20000',
    WSS_SHUTDOWN_TIMEOUT_MS: '500', REDIS_URL: '', REDIS_HOST: '', DATABASE_URL: '', DB_HOST: '', DB_NAME: '', WSS_PORTICO_CONFIG: '', NO_COLOR: '1',
  };
  fs.mkdirSync(env.WSS_SPOOL_DIR!, { recursive: true });
});

after(() => {
  // Whatever a failed test left running: only processes this file started.
  for (const pid of started) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  for (const child of helpers) child.kill('SIGKILL');
});

const cli = (args: string[], extra: Record<string, string> = {}) => runCli(args, { ...env, ...extra }, 60_000);
const pidInFile = () => Number(fs.readFileSync(pidFile, 'utf8').trim());
const alive = (pid: number) => { try { process.kill(pid, 0); return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0] !== 'Z'; } catch { return false; } };

function startDaemon() {
  const r = cli(['start', '--daemon']);
  if (r.status === 0) started.push(pidInFile());
  return r;
}

test('start --daemon writes the pid file, serves /health, and a second start is refused', async () => {
  const r = startDaemon();
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /portico-ws started \(pid \d+\)/);
  const pid = pidInFile();
  assert.ok(alive(pid));
  const health = await fetch(`http://127.0.0.1:${port}/health`);
  assert.equal(health.status, 200);

  const second = cli(['start', '--daemon']);
  assert.equal(second.status, 1);
  assert.match(second.stderr, new RegExp(`already running \\(pid ${pid}`));
  assert.equal(pidInFile(), pid, 'the pid file is untouched');
});

test('status and health exit 0 while it runs; health --quiet prints nothing', () => {
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

test('logs shows the last lines and -f follows new ones', async () => {
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
  await new Promise((r) => setTimeout(r, 800)); // let it reach the end of the file first
  const client = await TestClient.connect(`ws://127.0.0.1:${port}/wss`);
  const deadline = Date.now() + 10_000;
  while (!out.includes('connection opened')) {
    if (Date.now() > deadline) throw new Error(`logs -f printed: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(!out.includes('portico-ws listening'), '-n 0 printed no old lines');
  client.close();
  const exited = new Promise((r) => follower.once('exit', r));
  follower.kill('SIGINT');
  await exited;
});

test('stop escalates to SIGKILL when SIGTERM is not enough', async () => {
  const pid = pidInFile();
  process.kill(pid, 'SIGSTOP'); // a hung gateway: SIGTERM stays pending
  const r = cli(['stop']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /sending SIGKILL/);
  assert.match(r.stdout, /killed \(pid \d+\)/);
  assert.ok(!alive(pid));
  assert.ok(!fs.existsSync(pidFile));
});

test('health --restart brings a crashed daemon back (what cron runs)', async () => {
  assert.equal(startDaemon().status, 0);
  const first = pidInFile();
  process.kill(first, 'SIGKILL'); // crash; the pid file stays behind
  while (alive(first)) await new Promise((r) => setTimeout(r, 20));

  const status = cli(['status']);
  assert.equal(status.status, 3);
  assert.match(status.stdout, /stale pid file/);
  assert.equal(cli(['health']).status, 1);

  const r = cli(['health', '--restart']);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /unhealthy/);
  assert.match(r.stdout, /restarted/);
  const second = pidInFile();
  started.push(second);
  assert.notEqual(second, first);
  assert.equal(cli(['status']).status, 0);
});

test('restart replaces the process', () => {
  const before = pidInFile();
  const r = cli(['restart']);
  assert.equal(r.status, 0, r.stderr);
  const now = pidInFile();
  started.push(now);
  assert.notEqual(now, before);
  assert.ok(!alive(before));
  assert.ok(alive(now));
});

test('stop never signals a process it did not start', async () => {
  assert.equal(cli(['stop']).status, 0);
  assert.ok(!fs.existsSync(pidFile));
  // A pid file naming some other live process (as after pid reuse).
  const stranger = spawn('sleep', ['60'], { stdio: 'ignore' });
  helpers.push(stranger);
  fs.writeFileSync(pidFile, `${stranger.pid}\n`);
  const r = cli(['stop']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /not a portico-ws gateway/);
  assert.match(r.stdout, /no process was signalled/);
  await new Promise((res) => setTimeout(res, 200));
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

test('a daemon that cannot start is reported with its log and leaves no pid file', async () => {
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

test('--help for every command, and unknown options are usage errors', () => {
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
