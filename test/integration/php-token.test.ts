/**
 * deploy/php/portico-ws-token.php, run by the real php-cli, mints tokens the gateway accepts,
 * and the gateway refuses the ones it must (wrong secret, expired, short secret).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { NoIdentityResolver } from '../../src/server/identity/none.js';
import { TokenIdentityResolver } from '../../src/server/identity/token.js';
import { startTestGateway } from '../helpers/gateway.js';
import { TEST_AUTH_SECRET, TEST_USER_ROOM_KEY } from '../helpers/portico-auth.js';
import { TestClient } from '../helpers/ws-client.js';

const HELPER = path.resolve('deploy/php/portico-ws-token.php');
const MINT = 'require $argv[1]; echo portico_ws_token($argv[2], $argv[3], json_decode($argv[4], true), (int)$argv[5]);';

function phpToken(secret: string, sid: string, identities: Record<string, string | number>, ttl = 300): { token: string; status: number | null; stderr: string } {
  const run = spawnSync('php', ['-r', MINT, '--', HELPER, secret, sid, JSON.stringify(identities), String(ttl)], { encoding: 'utf8', timeout: 10_000 });
  if (run.error) throw new Error(`php-cli is needed (scripts/ensure-test-services.sh installs it): ${run.error.message}`);
  return { token: run.stdout, status: run.status, stderr: run.stderr };
}

const resolver = new TokenIdentityResolver(TEST_AUTH_SECRET, new NoIdentityResolver());
const request = (token: string, sessionId: string | null = null) => ({ sessionId, cookieName: 'bookingfrontendsession' as const, token });

test('a token from the PHP helper verifies, with its sid and identities (numbers as text)', async () => {
  const { token, status } = phpToken(TEST_AUTH_SECRET, 'phpSession01', { bb_user: '01017012345', phpgw_accounts: 42 });
  assert.equal(status, 0);
  assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
  assert.deepEqual(await resolver.resolve(request(token, 'phpSession01')), {
    kind: 'resolved', identities: { bb_user: '01017012345', phpgw_accounts: '42' }, sessionId: 'phpSession01',
  });
});

test('a token the helper minted with another secret, or already expired, is refused', async () => {
  const other = phpToken('another-secret-0123456789-abcdefghijk', 'phpSession01', { bb_user: '1' }).token;
  assert.equal((await resolver.resolve(request(other))).kind, 'invalid_token');
  const expired = phpToken(TEST_AUTH_SECRET, 'phpSession01', { bb_user: '1' }, -60).token;
  const outcome = await resolver.resolve(request(expired));
  assert.equal(outcome.kind === 'invalid_token' && outcome.reason, 'token has expired');
});

test('the helper refuses a secret shorter than 32 characters', () => {
  const run = phpToken('short', 'phpSession01', { bb_user: '1' });
  assert.notEqual(run.status, 0);
  assert.match(run.stderr + run.token, /at least 32 characters/);
});

test('a page connecting with ?token= from PHP gets its user messages', async () => {
  const gw = await startTestGateway({ auth: { secret: TEST_AUTH_SECRET, userRoomKey: TEST_USER_ROOM_KEY } });
  try {
    const { token } = phpToken(TEST_AUTH_SECRET, 'phpSession02', { bb_user: '05059012345' });
    const c = await TestClient.connect(`${gw.url}?token=${token}`);
    await gw.gateway.ingress.handle('notifications', { type: 'notification_event', target: 'user', userType: 'bb_user', identifier: '05059012345', message: 'bell' }, 'http');
    assert.equal((await c.next((m) => m.type === 'notification_event')).message, 'bell');
    c.close();
  } finally {
    await gw.close();
  }
});
