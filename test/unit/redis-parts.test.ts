/** The pure parts of the Redis side: broker envelope codec, retry strategy, config and endpoint. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeBusMessage, decodeEnvelope, encodeEnvelope } from '../../src/server/broker/codec.js';
import { withPosition, type Publication } from '../../src/server/broker/broker.js';
import { MAX_BATCH, PublishBatch, type ScriptPublication } from '../../src/server/broker/publish-batch.js';
import { ConfigError, loadConfig } from '../../src/server/config/index.js';
import { describeRedisEndpoint, redisClientOptions, redisEndpoint } from '../../src/server/redis/client.js';
import { createRetryStrategy } from '../../src/server/redis/retry.js';
import { StatusCell } from '../../src/server/redis/status.js';

test('envelope codec round-trips every field, frame byte for byte', () => {
  const frame = JSON.stringify({ type: 'chat', message: 'line\nbreak "quoted" ✓', timestamp: 'x' });
  const position = { stream: 'entity_resource_42', offset: 7, epoch: 'e1' };
  const room: Publication = { origin: 'gw-1', target: { kind: 'room', roomId: 'entity_resource_42' }, frame: withPosition(frame, position), type: 'chat', exclude: 'c1', ingressAt: 1_700_000_000_000, position };
  const decoded = decodeEnvelope(encodeEnvelope(room, { nonce: 'nonce-a', seq: 17, deliveredAtOrigin: false }));
  assert.deepEqual(decoded, { publication: room, nonce: 'nonce-a', seq: 17, deliveredAtOrigin: false });
  assert.deepEqual(JSON.parse(room.frame).stream_position, position);
  const all: Publication = { origin: 'gw-2', target: { kind: 'all' }, frame: '{"type":"x"}' };
  assert.deepEqual(decodeEnvelope(encodeEnvelope(all, { nonce: 'n', seq: 1, deliveredAtOrigin: true })), { publication: all, nonce: 'n', seq: 1, deliveredAtOrigin: true });
});

test('envelope codec rejects what it does not understand', () => {
  for (const bad of ['', '{"type":"notification"}', 'PWS1 ', 'PWS1 {"o":"a"}\n{}', 'PWS1 not json\n{}', 'PWS1 {"o":1,"n":"x"}\n{}', 'PWS1 {"o":"a","n":"x","q":"7"}\n{}', 'PWS1 [1]\n{}']) {
    assert.equal(decodeEnvelope(bad), null, bad);
  }
});

test('a bus message holds one envelope or a batch of them, read in order; anything malformed in a batch rejects it whole', () => {
  const a: Publication = { origin: 'gw-1', target: { kind: 'room', roomId: 'r1' }, frame: '{"type":"x","message":"line\\nbreak"}' };
  const b: Publication = { origin: 'gw-1', target: { kind: 'all' }, frame: '{}' };
  const ea = encodeEnvelope(a, { nonce: 'n', seq: 1, deliveredAtOrigin: false });
  const eb = encodeEnvelope(b, { nonce: 'n', seq: 2, deliveredAtOrigin: false });
  assert.deepEqual(decodeBusMessage(ea), [decodeEnvelope(ea)]);
  assert.deepEqual(decodeBusMessage(`PWSB\n${ea}\n${eb}`)?.map((d) => [d.seq, d.publication.frame]), [[1, a.frame], [2, b.frame]]);
  for (const bad of ['PWSB', 'PWSB\n', `PWSB\n${ea}\n`, `PWSB\n${ea}\nnot an envelope\n{}`, `PWSB\n${ea}\nPWS1 {"o":1}\n{}`, `${ea}\n${eb}`.replace('PWS1', 'PWS9')]) {
    assert.equal(decodeBusMessage(bad), null, bad);
  }
});

test('publish batch: a full call leaves at once, the rest of the turn from a microtask; replies and failures reach each publication', async () => {
  const calls: number[] = [];
  let fail = false;
  const batch = new PublishBatch(async (keys, args) => {
    const count = keys.length / 3;
    calls.push(count);
    assert.equal(args.length, 7 + 9 * count, 'the common arguments, then nine fields per publication');
    if (fail) throw new Error('refused');
    return Array.from({ length: count }, (_, i) => (String(args[7 + 9 * i + 4]).endsWith(':lost') ? 0 : [i + 1, 'e1'] as [number, string]));
  }, () => ['bus', 100, 1000, 2000, 'e0', 60_000, 'gw']);
  const one = (id: string): ScriptPublication => ({ keys: ['m', 's', 'c'], fields: ['PWS1 {', '{}', '"s"', '', id, '', '', '', ''] });
  const replies = Array.from({ length: MAX_BATCH + 2 }, (_, i) => batch.send(one(i === MAX_BATCH ? 'x:lost' : `x:${i}`)));
  assert.deepEqual(calls, [MAX_BATCH], 'the full call went out before the turn ended');
  const settled = await Promise.all(replies);
  assert.deepEqual(calls, [MAX_BATCH, 2], 'the other two in one call at the end of the turn');
  assert.deepEqual(settled.slice(MAX_BATCH), [null, [2, 'e1']], 'a lost claim is null, the others their position');
  fail = true;
  const failed = await Promise.allSettled([batch.send(one('y:1')), batch.send(one('y:2'))]);
  assert.deepEqual(failed.map((r) => r.status), ['rejected', 'rejected'], 'a refused call fails each of its publications');
});

test('retry strategy: capped, jittered, growing, never gives up', () => {
  const retry = createRetryStrategy({ baseMs: 100, maxMs: 5000 }, () => 1);
  assert.deepEqual([1, 2, 3, 4].map(retry), [100, 200, 400, 800]);
  assert.equal(retry(50), 5000);
  const low = createRetryStrategy({ baseMs: 100, maxMs: 5000 }, () => 0);
  assert.equal(low(50), 2500, 'jitter keeps half the delay');
  assert.equal(typeof createRetryStrategy({ baseMs: 1, maxMs: 1 })(1_000_000), 'number');
});

test('status cell reports each real transition once', () => {
  const cell = new StatusCell<'a' | 'b'>('a');
  const seen: string[] = [];
  cell.onChange((from, to) => seen.push(`${from}->${to}`));
  cell.set('b');
  cell.set('b');
  cell.set('a');
  assert.deepEqual(seen, ['a->b', 'b->a']);
});

test('redis config: off unless REDIS_URL or REDIS_HOST; documented names', () => {
  assert.equal(loadConfig({}).redis.enabled, false);
  assert.equal(loadConfig({ REDIS_PORT: '6380' }).redis.enabled, false);
  const byHost = loadConfig({ REDIS_HOST: 'redis.internal', REDIS_PORT: '6380', REDIS_PASSWORD: 'pw', REDIS_DB: '2', REDIS_TLS: 'true' }).redis;
  assert.equal(byHost.enabled, true);
  assert.deepEqual(redisEndpoint(byHost), { host: 'redis.internal', port: 6380, db: 2, tls: true, password: 'pw' });
  assert.equal(describeRedisEndpoint(byHost), 'rediss://redis.internal:6380/2');
  const byUrl = loadConfig({ REDIS_URL: 'redis://:s%40cret@10.0.0.5:6390/3', REDIS_HOST: 'ignored', REDIS_DB: '9' }).redis;
  assert.deepEqual(redisEndpoint(byUrl), { host: '10.0.0.5', port: 6390, db: 3, tls: false, password: 's@cret' });
  assert.ok(!describeRedisEndpoint(byUrl).includes('cret'), 'no password in descriptions');
  const fill = loadConfig({ REDIS_URL: 'rediss://cache:6379', REDIS_PASSWORD: 'from-env', REDIS_USERNAME: 'gw' }).redis;
  assert.deepEqual(redisEndpoint(fill), { host: 'cache', port: 6379, db: 0, tls: true, username: 'gw', password: 'from-env' });
  assert.equal(loadConfig({ REDIS_HOST: 'h' }).redis.prefix, 'portico-ws:');
});

test('redis config: bad values fail naming the variable, without the password', () => {
  assert.throws(() => loadConfig({ REDIS_URL: 'http://user:topsecret@host' }), (err: unknown) => err instanceof ConfigError && err.variable === 'REDIS_URL' && !err.message.includes('topsecret'));
  assert.throws(() => loadConfig({ REDIS_HOST: 'h', REDIS_PORT: 'x' }), (err: unknown) => err instanceof ConfigError && err.variable === 'REDIS_PORT');
  assert.throws(() => loadConfig({ REDIS_HOST: 'h', REDIS_RETRY_BASE_MS: '900', REDIS_RETRY_MAX_MS: '100' }), (err: unknown) => err instanceof ConfigError && err.variable === 'REDIS_RETRY_MAX_MS');
});

test('client options never queue while disconnected and never resend unacknowledged publishes', () => {
  const opts = redisClientOptions(loadConfig({ REDIS_HOST: 'h' }).redis, 'publisher', 'gw 1');
  assert.equal(opts.enableOfflineQueue, false);
  assert.equal(opts.autoResendUnfulfilledCommands, false);
  assert.equal(opts.autoResubscribe, false);
  assert.equal(opts.maxRetriesPerRequest, 0);
  assert.equal(opts.lazyConnect, true);
  assert.equal(opts.connectionName, 'portico-ws:gw_1:publisher');
  assert.equal(typeof opts.retryStrategy, 'function');
});
