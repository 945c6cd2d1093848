/** WSS_AUTH_* / WSS_SUBSCRIBE_AUTH_* / WSS_USER_ROOM_KEY: defaults off, bad values refused naming the variable. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, identityEnabled, loadConfig } from '../../src/server/config/index.js';

const KEY = 'k'.repeat(32);

test('defaults: no identity, entity rooms open, the default identity fields', () => {
  const { auth } = loadConfig({});
  assert.equal(identityEnabled(auth), false);
  assert.equal(auth.subscribeUrl, undefined);
  assert.deepEqual(auth.subscribeTypes, []);
  assert.deepEqual(auth.identities, [{ userType: 'bb_user', field: 'ssn' }, { userType: 'phpgw_accounts', field: 'account_id' }]);
  assert.equal(auth.timeoutMs, 2000);
  assert.equal(auth.cacheMs, 60_000);
});

test('a full setup parses', () => {
  const { auth } = loadConfig({
    WSS_AUTH_URL: 'https://portico.example/bookingfrontend/user', WSS_AUTH_IDENTITIES: 'bb_user:ssn, org:user.orgnr',
    WSS_AUTH_SECRET: 's'.repeat(40), WSS_SUBSCRIBE_AUTH_URL: 'https://portico.example/check/{entityType}/{entityId}',
    WSS_SUBSCRIBE_AUTH_TYPES: 'application,*', REDIS_HOST: '127.0.0.1',
  });
  assert.equal(identityEnabled(auth), true);
  assert.deepEqual(auth.identities[1], { userType: 'org', field: 'user.orgnr' });
  assert.deepEqual(auth.subscribeTypes, ['application', '*']);
});

const refused: Array<[Record<string, string>, string]> = [
  [{ WSS_AUTH_URL: 'ftp://x/user' }, 'WSS_AUTH_URL'],
  [{ WSS_AUTH_URL: 'not a url' }, 'WSS_AUTH_URL'],
  [{ WSS_AUTH_IDENTITIES: 'bb_user' }, 'WSS_AUTH_IDENTITIES'],
  [{ WSS_AUTH_IDENTITIES: 'bb user:ssn' }, 'WSS_AUTH_IDENTITIES'],
  [{ WSS_AUTH_SECRET: 'short' }, 'WSS_AUTH_SECRET'],
  [{ WSS_USER_ROOM_KEY: 'short' }, 'WSS_USER_ROOM_KEY'],
  [{ WSS_SUBSCRIBE_AUTH_URL: 'http://x/check/{entityType}' , WSS_SUBSCRIBE_AUTH_TYPES: '*' }, 'WSS_SUBSCRIBE_AUTH_URL'],
  [{ WSS_SUBSCRIBE_AUTH_URL: 'http://x/check/{entityType}/{entityId}' }, 'WSS_SUBSCRIBE_AUTH_TYPES'],
  [{ WSS_SUBSCRIBE_AUTH_TYPES: 'application' }, 'WSS_SUBSCRIBE_AUTH_URL'],
  [{ WSS_SUBSCRIBE_AUTH_URL: 'http://x/{entityId}', WSS_SUBSCRIBE_AUTH_TYPES: 'a b' }, 'WSS_SUBSCRIBE_AUTH_TYPES'],
  // Several instances must share the room key, or user messages miss the other instances' clients.
  [{ WSS_AUTH_URL: 'http://x/user', REDIS_HOST: '127.0.0.1' }, 'WSS_USER_ROOM_KEY'],
];
for (const [env, variable] of refused) {
  test(`refused, naming ${variable}: ${JSON.stringify(env)}`, () => {
    assert.throws(() => loadConfig(env), (err: unknown) => err instanceof ConfigError && err.variable === variable);
  });
}

test('with Redis, WSS_USER_ROOM_KEY or WSS_AUTH_SECRET makes the HTTP identity acceptable', () => {
  assert.doesNotThrow(() => loadConfig({ WSS_AUTH_URL: 'http://x/user', REDIS_HOST: 'r', WSS_USER_ROOM_KEY: KEY }));
  assert.doesNotThrow(() => loadConfig({ WSS_AUTH_URL: 'http://x/user', REDIS_HOST: 'r', WSS_AUTH_SECRET: KEY }));
  assert.doesNotThrow(() => loadConfig({ WSS_AUTH_URL: 'http://x/user' }), 'single instance: a random key is right');
});
