/**
 * `start --daemon` must only report success when the process it started answers /health, and
 * `logs` must exit as the README says when there is no log file.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { runCli, spawnCli } from '../helpers/cli.js';
import { startTestGateway, tempDir } from '../helpers/gateway.js';
import { freePort } from '../helpers/net.js';

/** Like runCli, but without blocking this process (whose in-process gateway must keep answering). */
async function runCliAsync(args: string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawnCli(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => { stdout += d; });
  child.stderr!.on('data', (d) => { stderr += d; });
  const status = await new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { status, stdout, stderr };
}

function cliEnv(dir: string, port: number): Record<string, string> {
  return {
    WSS_PORT: String(port), WSS_HOST: '127.0.0.1', WSS_PID_FILE: path.join(dir, 'gateway.pid'), WSS_LOG_FILE: path.join(dir, 'gateway.log'),
    WSS_SPOOL_DIR: path.join(dir, 'spool'), WSS_START_TIMEOUT_MS: '20000', WSS_SHUTDOWN_TIMEOUT_MS: '500',
    REDIS_URL: '', REDIS_HOST: '', DATABASE_URL: '', DB_HOST: '', DB_NAME: '', WSS_PORTICO_CONFIG: '', NO_COLOR: '1',
  };
}

test('start --daemon while another gateway holds the port fails, names EADDRINUSE and the gateway that answers', { timeout: 60_000 }, async () => {
  const port = await freePort();
  const other = await startTestGateway({ port, instanceId: 'the-other-one' });
  const dir = tempDir('portico-ws-cli-conflict-');
  try {
    const r = await runCliAsync(['start', '--daemon'], cliEnv(dir, port));
    assert.equal(r.status, 1, `exit code; stdout: ${r.stdout}`);
    assert.doesNotMatch(r.stdout, /started/);
    assert.match(r.stderr, /exited during start-up/);
    assert.match(r.stderr, /EADDRINUSE/);
    assert.match(r.stderr, new RegExp(`another gateway \\(pid ${process.pid}, instance the-other-one\\)`));
    assert.ok(!fs.existsSync(path.join(dir, 'gateway.pid')), 'no pid file left behind');
    const health = (await (await fetch(`${other.httpUrl}/health`)).json()) as { pid: number; instance: string };
    assert.deepEqual([health.pid, health.instance], [process.pid, 'the-other-one'], 'the other gateway still serves, and says who it is');
  } finally {
    await other.close();
  }
});

test('logs without a log file exits 1, as the README table and --help say; -f shows appended lines and exits 0 on Ctrl-C', { timeout: 30_000 }, async () => {
  const dir = tempDir('portico-ws-cli-logs-');
  const env = cliEnv(dir, await freePort());
  const r = runCli(['logs'], env);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no log file at/);

  const row = fs.readFileSync('README.md', 'utf8').split('\n').find((l) => l.startsWith('| `logs'));
  assert.ok(row, 'the README has a row for logs');
  assert.match(row!.split('|').at(-2)!, /\b1 no log file\b/, `README exit codes: ${row}`);
  assert.match(runCli(['logs', '--help'], env).stdout, /1 when there is no log file/);

  const follower = spawnCli(['logs', '-f'], env);
  let followed = '';
  follower.stdout!.on('data', (d) => { followed += d; });
  const exited = new Promise<number | null>((resolve) => follower.once('exit', (code) => resolve(code)));
  try {
    // Keep appending until the follower (still starting up on a loaded machine) shows a line.
    const deadline = Date.now() + 20_000;
    while (!followed.includes('hello')) {
      if (Date.now() > deadline) throw new Error(`logs -f printed: ${followed}`);
      fs.appendFileSync(env.WSS_LOG_FILE!, '{"level":30,"msg":"hello"}\n');
      await new Promise((r) => setTimeout(r, 250));
    }
    follower.kill('SIGINT');
    assert.equal(await exited, 0, 'logs -f stops cleanly on Ctrl-C');
  } finally {
    if (follower.exitCode === null) follower.kill('SIGKILL');
  }

  const shown = runCli(['logs'], env);
  assert.equal(shown.status, 0);
  assert.match(shown.stdout, /hello/);
});
