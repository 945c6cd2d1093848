/** The pieces of the upgrade policy on their own: the Origin rule, address keys, the log throttle, and their settings. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isServerOnlyType, SERVER_ONLY_TYPES } from '../../src/protocol/message-types.js';
import { clientSchemas } from '../../src/protocol/validate.js';
import { ConfigError, loadConfig } from '../../src/server/config/index.js';
import { KeyedThrottle } from '../../src/server/log-throttle.js';
import { judgeOrigin, normalizeOrigin, originRules } from '../../src/server/policy/origin.js';
import { addressKey, normalizeAddress } from '../../src/server/policy/proxy.js';

const none = originRules([]);
const at = (host: string | undefined, proto?: string) => ({ host, proto });

test('same origin: host and port equal what the browser addressed, default ports implied', () => {
  assert.equal(judgeOrigin(undefined, at('x.example'), none), 'no-origin');
  assert.equal(judgeOrigin('https://x.example', at('x.example'), none), 'same-origin');
  assert.equal(judgeOrigin('https://x.example', at('X.Example'), none), 'same-origin');
  assert.equal(judgeOrigin('https://x.example:8443', at('x.example:8443'), none), 'same-origin');
  assert.equal(judgeOrigin('https://x.example', at('x.example:443'), none), 'same-origin');
  assert.equal(judgeOrigin('http://x.example', at('x.example:443'), none), 'foreign', 'http page, port 80, against 443');
  assert.equal(judgeOrigin('https://x.example:8443', at('x.example'), none), 'foreign');
  assert.equal(judgeOrigin('https://x.example', at('x.example', 'https'), none), 'same-origin');
  assert.equal(judgeOrigin('https://x.example', at('x.example', 'wss'), none), 'same-origin');
  assert.equal(judgeOrigin('https://x.example', at('x.example', 'http'), none), 'foreign', 'a trusted proxy says port 80');
  assert.equal(judgeOrigin('https://x.example.evil', at('x.example'), none), 'foreign');
  assert.equal(judgeOrigin('https://evil.example', at(undefined), none), 'foreign', 'no Host at all');
  assert.equal(judgeOrigin('http://[::1]:8080', at('[::1]:8080'), none), 'same-origin');
  assert.equal(judgeOrigin('http://[::1]:8080', at('[::2]:8080'), none), 'foreign');
  for (const odd of ['null', 'file://', 'chrome-extension://abc', 'not a url']) assert.equal(judgeOrigin(odd, at('x.example'), none), 'foreign', odd);
  for (const badHost of ['x.example/path', 'user@x.example', 'x.example:99999x', '']) {
    assert.equal(judgeOrigin('https://x.example', at(badHost), none), 'foreign', `Host ${JSON.stringify(badHost)}`);
  }
});

test('listed origins and *', () => {
  const listed = originRules([normalizeOrigin('https://Booking.Example.org:443/')]);
  assert.equal(judgeOrigin('https://booking.example.org', at('gw.internal:8080'), listed), 'listed');
  assert.equal(judgeOrigin('https://booking.example.org:8443', at('gw.internal:8080'), listed), 'foreign');
  assert.equal(judgeOrigin('https://anything.example', at('gw.internal'), originRules(['*'])), 'any');
  assert.equal(judgeOrigin(undefined, at('gw.internal'), originRules(['*'])), 'no-origin');
  assert.throws(() => normalizeOrigin('booking.example.org'));
  assert.throws(() => normalizeOrigin('https://booking.example.org/path'));
  assert.throws(() => normalizeOrigin('ftp://booking.example.org'));
});

test('settings: WSS_TRUSTED_PROXIES defaults to loopback and is checked; WSS_ALLOWED_ORIGINS is normalised and checked', () => {
  const defaults = loadConfig({});
  assert.deepEqual(defaults.trustedProxies, ['loopback']);
  assert.deepEqual(defaults.limits.allowedOrigins, []);
  assert.equal(defaults.limits.maxConnectionsPerIp, 200);
  assert.equal(defaults.limits.maxRoomsPerConnection, 100);
  const set = loadConfig({ WSS_TRUSTED_PROXIES: '10.0.0.0/8, 192.0.2.1, loopback', WSS_ALLOWED_ORIGINS: 'https://A.example/, *' });
  assert.deepEqual(set.trustedProxies, ['10.0.0.0/8', '192.0.2.1', 'loopback']);
  assert.deepEqual(set.limits.allowedOrigins, ['https://a.example', '*']);
  assert.throws(() => loadConfig({ WSS_TRUSTED_PROXIES: 'proxy.example' }), (e: unknown) => e instanceof ConfigError && e.variable === 'WSS_TRUSTED_PROXIES');
  assert.throws(() => loadConfig({ WSS_ALLOWED_ORIGINS: 'booking.example.org' }), (e: unknown) => e instanceof ConfigError && e.variable === 'WSS_ALLOWED_ORIGINS');
});

test('addresses: IPv4-mapped IPv6 is IPv4; an IPv6 client counts as its /64', () => {
  assert.equal(normalizeAddress('::ffff:192.0.2.7'), '192.0.2.7');
  assert.equal(addressKey('192.0.2.7'), '192.0.2.7');
  assert.equal(addressKey('::ffff:192.0.2.7'), '192.0.2.7');
  assert.equal(addressKey('2001:db8:1:2:aaaa::1'), addressKey('2001:db8:1:2:bbbb::2'));
  assert.notEqual(addressKey('2001:db8:1:2::1'), addressKey('2001:db8:1:3::1'));
  assert.equal(addressKey('::1'), '::1');
  assert.equal(addressKey('unknown'), 'unknown');
});

test('log throttle: once per key per window with the held-back count, a total cap, bounded keys', () => {
  const t = new KeyedThrottle({ windowMs: 1000, maxLinesPerWindow: 3, maxKeys: 4 });
  assert.equal(t.take('a', 0), 0);
  assert.equal(t.take('a', 10), null);
  assert.equal(t.take('a', 999), null);
  assert.equal(t.take('a', 1000), 2, 'the next line tells how many were held back');
  assert.equal(t.take('b', 1000), 0);
  assert.equal(t.take('c', 1001), 0);
  assert.equal(t.take('d', 1002), null, 'the total cap of 3 lines per window');
  assert.equal(t.take('e', 2100), 1, 'reported with the next line written');
  for (let i = 0; i < 100; i++) t.take(`k${i}`, 3000 + i * 1000);
  assert.ok((t as unknown as { keys: Map<string, unknown> }).keys.size <= 4, 'keys are bounded');
});

test('server-only types: nothing a client legitimately sends is on the list', () => {
  for (const type of Object.keys(clientSchemas)) assert.equal(isServerOnlyType(type), false, type);
  for (const type of SERVER_ONLY_TYPES) assert.equal(isServerOnlyType(type), true, type);
  assert.equal(isServerOnlyType('anything_confirmation'), true);
  assert.equal(isServerOnlyType('custom_thing'), false);
  assert.equal(isServerOnlyType(undefined), false);
});
