/**
 * One contract for every Broker: the memory broker and the Redis broker against a real
 * redis-server spawned here. Positions, history, its bounds and loss (new epoch), metadata carried
 * to the deliver function, history switched off; then what only a shared broker can show: several
 * instances, each publication delivered once per instance in offset order, legacy claims.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { withPosition, type Broker, type Publication } from '../../src/server/broker/broker.js';
import { MemoryBroker } from '../../src/server/broker/memory.js';
import { MAX_BATCH } from '../../src/server/broker/publish-batch.js';
import { defaultConfig, type DeliveryConfig } from '../../src/server/config/index.js';
import { silentLogger } from '../../src/server/log.js';
import { createRedisDependencies } from '../../src/server/redis/dependencies.js';
import { rawPublisher, testRedisConfig, waitFor } from '../helpers/redis-gateway.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

interface Settings { size?: number; ttlMs?: number; metaTtlMs?: number }
interface Made { broker: Broker; got: Publication[]; loseHistory(): Promise<void> }
type Factory = (settings: Settings, instanceId?: string) => Promise<Made>;

const delivery = (s: Settings): DeliveryConfig => ({
  ...defaultConfig().delivery,
  historySize: s.size ?? 100, historyTtlMs: s.ttlMs ?? 300_000, historyMetaTtlMs: s.metaTtlMs ?? Math.max(s.ttlMs ?? 0, 3_600_000),
});

const opened: Broker[] = [];
async function started(broker: Broker, loseHistory: () => Promise<void>): Promise<Made> {
  const got: Publication[] = [];
  await broker.start((p) => got.push(p));
  opened.push(broker);
  return { broker, got, loseHistory };
}

const frame = (n: number, extra: object = {}) => JSON.stringify({ type: 'notification', message: `m${n}`, ...extra });
const room = (roomId: string) => ({ kind: 'room' as const, roomId });

function contract(name: string, factory: () => Factory): void {
  describe(`broker contract: ${name}`, () => {
    test('positions grow by one per stream; the frame carries its position, spliced once', async () => {
      const { broker, got } = await factory()({});
      assert.equal(broker.historyEnabled, true);
      const a1 = await broker.publish({ target: room('entity_a_1'), frame: frame(1) });
      const a2 = await broker.publish({ target: room('entity_a_1'), frame: frame(2) });
      const b1 = await broker.publish({ target: { kind: 'all' }, frame: frame(3) });
      assert.deepEqual([a1?.offset, a2?.offset, b1?.offset], [1, 2, 1]);
      assert.equal(a1?.epoch, a2?.epoch);
      await waitFor(() => got.length === 3, 'three deliveries');
      const parsed = got.map((p) => JSON.parse(p.frame));
      assert.deepEqual(parsed.map((m) => m.stream_position), [
        { stream: 'entity_a_1', offset: 1, epoch: a1!.epoch }, { stream: 'entity_a_1', offset: 2, epoch: a1!.epoch },
        { stream: 'broadcast', offset: 1, epoch: b1!.epoch },
      ]);
      assert.deepEqual(parsed.map((m) => m.message), ['m1', 'm2', 'm3'], 'every other field kept');
      assert.deepEqual(got[1]!.position, { stream: 'entity_a_1', offset: 2, epoch: a1!.epoch });
      assert.equal(got[0]!.frame, withPosition(frame(1), got[0]!.position!), 'same splice as withPosition');
      assert.ok(got[0]!.frame.startsWith(frame(1).slice(0, -1) + ','), `the publisher's fields keep their places, the position comes last: ${got[0]!.frame}`);
      assert.ok(got[0]!.frame.endsWith(`"stream_position":${JSON.stringify(got[0]!.position ? { stream: 'entity_a_1', offset: 1, epoch: a1!.epoch } : null)}}`));
    });

    test('expectingOwnBroadcasts says whether a broadcast is still on its way to deliver; room publications never hold', async () => {
      const { broker, got } = await factory()({});
      assert.equal(broker.expectingOwnBroadcasts(), false, 'nothing published yet');
      const published = broker.publish({ target: { kind: 'all' }, frame: frame(1) });
      const deliveredAtOnce = got.length === 1;
      assert.equal(broker.expectingOwnBroadcasts(), !deliveredAtOnce, 'expecting exactly when it was not delivered at once');
      await published;
      await waitFor(() => got.length === 1, 'the delivery');
      assert.equal(broker.expectingOwnBroadcasts(), false, 'nothing on its way once it arrived');
      const toRoom = broker.publish({ target: room('entity_e_1'), frame: frame(2) });
      assert.equal(broker.expectingOwnBroadcasts(), false, 'a room publication on its way does not hold the outbox');
      await toRoom;
      await waitFor(() => got.length === 2, 'the room delivery');
    });

    test('history returns what came after an offset, in order, up to a limit, with the top', async () => {
      const { broker } = await factory()({});
      for (let i = 1; i <= 5; i++) await broker.publish({ target: room('session_h'), frame: frame(i) });
      const read = await broker.history('session_h', 2, 100);
      assert.equal(read.top.offset, 5);
      assert.deepEqual(read.publications.map((p) => p.offset), [3, 4, 5]);
      assert.deepEqual(read.publications.map((p) => JSON.parse(p.frame).message), ['m3', 'm4', 'm5']);
      assert.deepEqual((await broker.history('session_h', 0, 2)).publications.map((p) => p.offset), [1, 2]);
      assert.deepEqual((await broker.history('session_h', 5, 100)).publications, []);
      const empty = await broker.history('never_published', 0, 10);
      assert.equal(empty.top.offset, 0);
      assert.ok(empty.top.epoch.length > 0, 'a stream without publications still has an epoch');
      const again = await broker.history('never_published', 0, 10);
      assert.equal(again.top.epoch, empty.top.epoch, 'and keeps it');
      const first = await broker.publish({ target: room('never_published'), frame: frame(1) });
      assert.deepEqual(first, { offset: 1, epoch: empty.top.epoch });
    });

    test('history keeps the last WSS_HISTORY_SIZE publications of a stream', async () => {
      const { broker } = await factory()({ size: 10 });
      for (let i = 1; i <= 35; i++) await broker.publish({ target: room('entity_b_1'), frame: frame(i) });
      const read = await broker.history('entity_b_1', 25, 10);
      assert.deepEqual(read.publications.map((p) => p.offset), [26, 27, 28, 29, 30, 31, 32, 33, 34, 35]);
      const all = await broker.history('entity_b_1', 0, 1000);
      assert.ok(all.publications.length < 35, `older ones trimmed (kept ${all.publications.length})`);
    });

    test('history expires after WSS_HISTORY_TTL_S; the position outlives it, then the epoch changes', async () => {
      const { broker } = await factory()({ ttlMs: 400, metaTtlMs: 1500 });
      const first = await broker.publish({ target: room('entity_c_1'), frame: frame(1) });
      await waitFor(async () => (await broker.history('entity_c_1', 0, 10)).publications.length === 0, 'publications expired', 5000);
      const readAt = Date.now();
      const mid = await broker.history('entity_c_1', 0, 10);
      assert.deepEqual(mid.top, first, 'offset and epoch still known');
      const kept = mid.epochKeptMs ?? 0;
      assert.ok(kept > 0 && kept <= 1500, `the read says how long the epoch stands: ${mid.epochKeptMs}`);
      await waitFor(async () => (await broker.history('entity_c_1', 0, 10)).top.epoch !== first!.epoch, 'position expired', 8000);
      assert.ok(Date.now() >= readAt + kept - 5, 'the epoch stood at least as long as the read said');
    });

    test('losing the history (FLUSHALL, restart) starts the stream again in a new epoch', async () => {
      const made = await factory()({});
      const before = await made.broker.publish({ target: room('entity_d_1'), frame: frame(1) });
      await made.broker.publish({ target: room('entity_d_1'), frame: frame(2) });
      await made.loseHistory();
      const after = await made.broker.publish({ target: room('entity_d_1'), frame: frame(3) });
      assert.equal(after?.offset, 1);
      assert.notEqual(after?.epoch, before?.epoch);
      const read = await made.broker.history('entity_d_1', 0, 10);
      assert.deepEqual(read.publications.map((p) => JSON.parse(p.frame).message), ['m3']);
    });

    test('target, sender exclusion, type and ingress time reach the deliver function', async () => {
      const { broker, got } = await factory()({}, 'gw-meta');
      await broker.publish({ target: room('session_x'), frame: frame(1), exclude: 'c42', type: 'notification', ingressAt: 1234 });
      await waitFor(() => got.length === 1, 'delivery');
      const p = got[0]!;
      assert.deepEqual([p.origin, p.target, p.exclude, p.type, p.ingressAt], ['gw-meta', room('session_x'), 'c42', 'notification', 1234]);
    });

    test('WSS_HISTORY_SIZE=0: delivered once without a position, nothing kept', async () => {
      const { broker, got } = await factory()({ size: 0 });
      assert.equal(broker.historyEnabled, false);
      assert.equal(await broker.publish({ target: { kind: 'all' }, frame: frame(1) }), null);
      await waitFor(() => got.length === 1, 'delivery');
      assert.equal(got[0]!.frame, frame(1), 'the frame untouched');
      assert.equal(got[0]!.position, undefined);
      await assert.rejects(broker.history('broadcast', 0, 10));
      await new Promise((r) => setImmediate(r));
      assert.equal(got.length, 1, 'once');
    });
  });
}

contract('memory', () => async (settings, instanceId = 'mem') => {
  const broker = new MemoryBroker(instanceId, { size: settings.size ?? 100, ttlMs: settings.ttlMs ?? 300_000, metaTtlMs: settings.metaTtlMs ?? 3_600_000 });
  return started(broker, async () => broker.forgetAll());
});

let server: RedisServer;
let admin: Redis;
before(async () => {
  server = await startRedisServer();
  admin = rawPublisher(server);
});
after(async () => {
  for (const b of opened) await b.close();
  admin.disconnect();
  await server.stop();
});

const redisFactory: Factory = async (settings, instanceId = `gw-${Math.random().toString(36).slice(2, 7)}`) => {
  // Each test gets its own key prefix, so tests do not see each other's streams.
  const prefix = `t${Math.random().toString(36).slice(2, 8)}:`;
  const deps = createRedisDependencies(testRedisConfig(server, { prefix }), silentLogger(), instanceId, delivery(settings));
  return started(deps.broker, async () => { await admin.flushall(); });
};
contract('redis', () => redisFactory);

describe('redis broker: several instances', () => {
  async function pair(settings: Settings = {}) {
    const prefix = `p${Math.random().toString(36).slice(2, 8)}:`;
    const make = async (id: string) => {
      const deps = createRedisDependencies(testRedisConfig(server, { prefix }), silentLogger(), id, delivery(settings));
      return started(deps.broker, async () => {});
    };
    return [await make('gw-a'), await make('gw-b')] as const;
  }

  test('every publication reaches every instance once, one stream in offset order, from both origins', async () => {
    const [a, b] = await pair();
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < 200; i++) sends.push((i % 2 ? a : b).broker.publish({ target: room('entity_s_1'), frame: frame(i) }));
    await Promise.all(sends);
    for (const x of [a, b]) {
      await waitFor(() => x.got.length === 200, 'all 200 delivered');
      assert.deepEqual(x.got.map((p) => p.position!.offset), Array.from({ length: 200 }, (_, i) => i + 1));
    }
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(a.got.length + b.got.length, 400, 'no duplicates');
  });

  test('history off: the origin delivers its own at once and skips its echo; the other gets it once', async () => {
    const [a, b] = await pair({ size: 0 });
    await a.broker.publish({ target: { kind: 'all' }, frame: frame(1) });
    assert.equal(a.got.length, 1, 'delivered at the origin synchronously');
    await waitFor(() => b.got.length === 1, 'the other instance');
    await a.broker.publish({ target: { kind: 'all' }, frame: frame(2) });
    await waitFor(() => b.got.length === 2, 'second');
    assert.equal(a.got.length, 2, 'its echoes skipped');
  });

  test('legacy claims: all instances offer, each occurrence enters history and reaches each instance once', async () => {
    const [a, b] = await pair();
    const text = frame(1, { timestamp: '2024-05-01T10:00:00+02:00' });
    const offers = [];
    // The same payload twice (PHP: two equal notifications in one second) offered by both instances.
    for (const occurrence of [1, 2]) for (const x of [a, b]) offers.push(x.broker.publish({ target: { kind: 'all' }, frame: text, claim: { key: 'k1', occurrence } }));
    const results = await Promise.all(offers);
    assert.equal(results.filter((r) => r !== null).length, 2, 'two appends, one per occurrence');
    for (const x of [a, b]) await waitFor(() => x.got.length === 2, 'both occurrences delivered');
    assert.equal((await a.broker.history('broadcast', 0, 10)).top.offset, 2);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual([a.got.length, b.got.length], [2, 2]);
  });

  test('a turn\'s publications (up to MAX_BATCH) reach Redis as one script call and the other instances as one bus message, each with its own outcome', async () => {
    const prefix = `b${Math.random().toString(36).slice(2, 8)}:`;
    const make = async (id: string) => started(createRedisDependencies(testRedisConfig(server, { prefix }), silentLogger(), id, delivery({})).broker, async () => {});
    const [a, b] = [await make('gw-a'), await make('gw-b')];
    const listener = rawPublisher(server);
    const busMessages: string[] = [];
    listener.on('message', (_channel: string, text: string) => busMessages.push(text));
    await listener.subscribe(`${prefix}bus`);
    // b enters the second legacy message first: a's offer of it loses its claim, in the middle of a's batch.
    assert.notEqual(await b.broker.publish({ target: room('entity_t_2'), frame: frame(2), claim: { key: 'turn2', occurrence: 1 } }), null);
    await waitFor(() => a.got.length === 1 && busMessages.length === 1, 'b\'s message everywhere');
    // ioredis sends a script's first call on a connection as EVAL, the later ones as EVALSHA.
    const calls = async () => {
      const stats = await admin.info('commandstats');
      return ['eval', 'evalsha'].reduce((n, c) => n + Number(new RegExp(`cmdstat_${c}:calls=(\\d+)`).exec(stats)?.[1] ?? 0), 0);
    };
    const before = await calls();
    const turn = [
      a.broker.publish({ target: room('entity_t_1'), frame: frame(1) }),
      a.broker.publish({ target: room('entity_t_2'), frame: frame(2), claim: { key: 'turn2', occurrence: 1 } }),
      a.broker.publish({ target: room('entity_t_1'), frame: frame(3) }),
      a.broker.publish({ target: { kind: 'all' }, frame: frame(4), claim: { key: 'turn4', occurrence: 1 } }),
    ];
    const results = await Promise.all(turn);
    assert.equal(await calls() - before, 1, 'one script call for the turn');
    assert.deepEqual(results.map((r) => r?.offset ?? null), [1, null, 2, 1], 'the lost claim alone comes back empty');
    await waitFor(() => b.got.length === 4 && a.got.length === 4, 'three more on each instance');
    assert.equal(busMessages.length, 2, 'b\'s message, then one for the whole turn');
    assert.ok(busMessages[1]!.startsWith('PWSB\n'), busMessages[1]);
    for (const x of [a, b]) {
      assert.deepEqual(x.got.map((p) => `${JSON.parse(p.frame).message}@${p.position!.stream}:${p.position!.offset}`), ['m2@entity_t_2:1', 'm1@entity_t_1:1', 'm3@entity_t_1:2', 'm4@broadcast:1']);
    }
    // A burst is cut into calls of at most MAX_BATCH, each sent when full.
    const burst = await calls();
    await Promise.all(Array.from({ length: 2 * MAX_BATCH + 1 }, (_, i) => a.broker.publish({ target: room('entity_t_3'), frame: frame(i) })));
    assert.equal(await calls() - burst, 3, `${2 * MAX_BATCH + 1} publications in three calls`);
    await waitFor(() => b.got.length === 4 + 2 * MAX_BATCH + 1, 'the burst everywhere');
    assert.deepEqual(b.got.slice(4).map((p) => p.position!.offset), Array.from({ length: 2 * MAX_BATCH + 1 }, (_, i) => i + 1));
    listener.disconnect();
  });

  test('a legacy message another instance entered into history is not delivered again when this one cannot send', async () => {
    const prefix = `q${Math.random().toString(36).slice(2, 8)}:`;
    const a = await started(createRedisDependencies(testRedisConfig(server, { prefix }), silentLogger(), 'gw-a', delivery({})).broker, async () => {});
    // One publish in flight is b's limit: a second one in the same turn is not sendable (as while a replay runs).
    const b = await started(createRedisDependencies(testRedisConfig(server, { prefix, maxPendingPublishes: 1 }), silentLogger(), 'gw-b', delivery({})).broker, async () => {});
    const text = frame(1, { spool: 'websocket_notification_7.json' });
    await a.broker.publish({ target: { kind: 'all' }, frame: text, claim: { key: 'file7', occurrence: 1 } });
    await waitFor(() => b.got.length === 1, 'a\'s copy reached b');
    const filler = b.broker.publish({ target: room('entity_f_1'), frame: frame(2) });
    const own = b.broker.publish({ target: { kind: 'all' }, frame: text, claim: { key: 'file7', occurrence: 1 } });
    assert.equal(await own, null, 'not entered again');
    await filler;
    await waitFor(() => b.got.some((p) => JSON.parse(p.frame).message === 'm2'), 'the filler delivered');
    await new Promise((r) => setTimeout(r, 100)); // "nothing more arrives": a short window, said so
    assert.deepEqual(b.got.map((p) => JSON.parse(p.frame).message), ['m1', 'm2'], 'b delivered the claimed message once');
    assert.equal(b.broker.outage().buffered, 0, 'and kept nothing for a replay');
  });

  test('a publication whose PUBLISH an instance missed is filled in from history, in order', async () => {
    const [a, b] = await pair();
    await a.broker.publish({ target: room('entity_g_1'), frame: frame(1) });
    await waitFor(() => b.got.length === 1, 'first');
    // Appended by someone whose PUBLISH nobody heard (a stale script after a freeze): offset 2.
    const streamKey = (await admin.keys('*h:{entity_g_1}:s'))[0]!;
    const metaKey = streamKey.replace(/:s$/, ':m');
    const epoch = await admin.hget(metaKey, 'e');
    await admin.hincrby(metaKey, 'o', 1);
    await admin.xadd(streamKey, '2-1', 'd', withPosition(frame(2), { stream: 'entity_g_1', offset: 2, epoch: epoch! }), 'i', 'x:1', 'o', 'gw-c', 'x', '', 'l', '');
    await a.broker.publish({ target: room('entity_g_1'), frame: frame(3) });
    for (const x of [a, b]) {
      await waitFor(() => x.got.length === 3, 'gap filled');
      assert.deepEqual(x.got.map((p) => JSON.parse(p.frame).message), ['m1', 'm2', 'm3']);
    }
  });
});
