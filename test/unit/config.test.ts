import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, describeConfig, loadConfig } from '../../src/server/config/index.js';

test('defaults match the documented embedded setup', () => {
  const c = loadConfig({});
  assert.equal(c.port, 8080);
  assert.equal(c.host, '0.0.0.0');
  assert.equal(c.log.enabled, true);
  assert.equal(c.log.debug, false);
  assert.equal(c.log.toDocker, true);
  assert.equal(c.limits.maxMessageBytes, 65536);
  assert.equal(c.clientBroadcast, 'all');
  assert.equal(c.timers.protocolPingMs, 30_000);
  assert.equal(c.timers.serverPingMs, 60_000);
  assert.equal(c.timers.roomPingMs, 240_000);
  assert.equal(c.timers.roomIdleMs, 480_000);
});

test('values are parsed and typed', () => {
  const c = loadConfig({ WSS_PORT: '9001', WSS_LOG_ENABLED: 'false', WSS_ALLOWED_ORIGINS: 'https://a.example, https://b.example', WSS_CLIENT_BROADCAST: 'chat' });
  assert.equal(c.port, 9001);
  assert.equal(c.log.enabled, false);
  assert.deepEqual(c.limits.allowedOrigins, ['https://a.example', 'https://b.example']);
  assert.equal(c.clientBroadcast, 'chat');
});

for (const [name, value] of [['WSS_PORT', 'abc'], ['WSS_PORT', '70000'], ['WSS_LOG_ENABLED', 'maybe'], ['WSS_CLIENT_BROADCAST', 'some'], ['WSS_MAX_MESSAGE_BYTES', '-1']] as const) {
  test(`invalid ${name}=${value} names the variable`, () => {
    assert.throws(() => loadConfig({ [name]: value }), (err: unknown) => err instanceof ConfigError && err.variable === name && err.message.includes(name));
  });
}

test('burst below rate is rejected', () => {
  assert.throws(() => loadConfig({ WSS_RATE_LIMIT: '100', WSS_RATE_BURST: '10' }), /WSS_RATE_BURST/);
});

test('every variable is documented once, with a meaning', () => {
  const docs = describeConfig();
  const names = docs.map((d) => d.name);
  assert.equal(new Set(names).size, names.length);
  for (const d of docs) assert.ok(d.meaning.length > 5, d.name);
  assert.ok(names.includes('WSS_LOG_TO_DOCKER'));
});
