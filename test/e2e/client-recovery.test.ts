/**
 * Recovery in a real browser: our client in headless Chromium reaches two gateways (one real
 * Redis) through a TCP proxy that the test cuts and restores. What PHP publishes meanwhile
 * (bell notifications, session pushes, entity-room messages) reaches the page once and in order
 * after the reconnect, on the same instance or the other one, and `portico:recovered` says true;
 * when history cannot answer (window exceeded, FLUSHALL) the page gets `recovered: false` and
 * `portico:resync`.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { Redis } from 'ioredis';
import { sessionRoomId } from '../../src/server/session.js';
import { rawPublisher, startRedisGateway, waitFor, type RedisTestGateway } from '../helpers/redis-gateway.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { startTcpProxy, type TcpProxy } from '../helpers/cuttable-proxy.js';
import { TestClient, type Msg } from '../helpers/ws-client.js';
import { buildClientAssets, launchChromium, openGatewayPage, sessionPage, WAIT } from './browser.js';

const SESSION = 'recoverySession0123456789ab';
const SESSION_ROOM = sessionRoomId(SESSION);
const ENTITY_ROOM = 'entity_resource_42';
/** The session the page switches to with updateSession() in the last test. */
const SWITCHED_SESSION = 'switchedSession0123456789ab';
/** An entity room the page joins late and gets no message in before the cut. */
const FRESH_ROOM = 'entity_resource_43';
const HISTORY_SIZE = 20;
const KINDS = ['bell', 'push', 'entity'] as const;
type Kind = (typeof KINDS)[number];

/** The page keeps, per kind, the sequence numbers it was shown (after the client's de-duplication). */
const HOST_PAGE = `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head><body>
<script>
  window.__events = [];
  for (const name of ['connected', 'disconnected', 'recovered', 'resync']) {
    window.addEventListener('portico:' + name, (e) => window.__events.push({ name, detail: e.detail }));
  }
  window.__got = { bell: [], push: [], entity: [], fresh: [], switched: [] };
</script>
<script src="/client.js"></script>
<script>
  window.client = createWebSocketClient(null, { backoff: { baseMs: 100, maxMs: 300 }, detectUserId: false });
  client.on('receive', (m) => {
    const tagged = m.data && m.data.kind ? m.data : m;
    if (tagged.kind && window.__got[tagged.kind]) window.__got[tagged.kind].push(tagged.seq);
  });
  client.subscribe('resource', 42);
</script></body></html>`;

type Recorded = { name: string; detail: any };

let redis: RedisServer;
let a: RedisTestGateway;
let b: RedisTestGateway;
let proxy: TcpProxy;
let browser: Browser;
let page: Page;
let php: Redis;
let witness: TestClient;
let errors: string[];
let seq = 0;

/** Publish one message of `kind` on PorticoEstate's Redis channel, as PHP does; returns its seq. */
async function publish(kind: Kind | 'fresh' | 'switched'): Promise<number> {
  const n = ++seq;
  const timestamp = new Date().toISOString();
  if (kind === 'bell') {
    await php.publish('notifications', JSON.stringify({ type: 'notification', message: `bell ${n}`, kind, seq: n, timestamp }));
  } else if (kind === 'push' || kind === 'switched') {
    await php.publish('session_messages', JSON.stringify({
      type: 'session_targeted', sessionId: kind === 'push' ? SESSION : SWITCHED_SESSION,
      data: { type: 'partial_applications_response', data: { error: false, status: 'success', applications: [], count: 0, source: 'server_push', kind, seq: n } },
    }));
  } else {
    const roomId = kind === 'fresh' ? FRESH_ROOM : ENTITY_ROOM;
    await php.publish('room_messages', JSON.stringify({ type: 'room_message', roomId, action: 'updated', kind, seq: n, timestamp }));
  }
  return n;
}

const kindOf = (m: Msg): Kind | undefined => (m.kind ?? m.data?.kind) as Kind | undefined;
const seqOf = (m: Msg): number | undefined => (m.seq ?? m.data?.seq) as number | undefined;

/** Wait until the witness (a plain client in the same rooms, never cut) got every seq: they are published and positioned. */
async function witnessed(seqs: number[]): Promise<void> {
  const want = new Set(seqs);
  await waitFor(() => {
    for (const m of witness.messages) {
      const s = seqOf(m);
      if (s !== undefined && want.has(s)) {
        assert.ok(m.stream_position, `${kindOf(m)} ${s} carries its stream position`);
        want.delete(s);
      }
    }
    return want.size === 0;
  }, `the witness to receive ${seqs.length} messages`);
}

const events = (name: string): Promise<any[]> =>
  page.evaluate((n) => (globalThis as any).__events.filter((e: Recorded) => e.name === n).map((e: Recorded) => e.detail), name);

async function waitEvents(name: string, count: number): Promise<any[]> {
  await page.waitForFunction(([n, c]) => (globalThis as any).__events.filter((e: Recorded) => e.name === n).length >= c, [name, count] as const, WAIT);
  return events(name);
}

const got = (): Promise<Record<Kind, number[]>> => page.evaluate(() => (globalThis as any).__got);

/** Publish one message per kind and wait until the page shows all three: a barrier that also proves nothing else arrived in between. */
async function settle(): Promise<Record<Kind, number[]>> {
  const markers = await Promise.all(KINDS.map((k) => publish(k)));
  await page.waitForFunction((m) => {
    const g = (globalThis as any).__got;
    return ['bell', 'push', 'entity'].every((k, i) => g[k].includes(m[i]));
  }, markers, WAIT).catch(async (err: Error) => {
    const state = await page.evaluate(() => ({ got: (globalThis as any).__got, events: (globalThis as any).__events, state: (globalThis as any).client?.getState() }));
    throw new Error(`${err.message}; waiting for ${markers.join(',')}; page: ${JSON.stringify(state)}; errors: ${errors.join(' | ')}`);
  });
  return got();
}

/** Cut the proxy and wait until the page noticed. */
async function cut(): Promise<void> {
  const disconnects = (await events('disconnected')).length;
  proxy.cut();
  await waitEvents('disconnected', disconnects + 1);
}

/** Cut the page off, publish `perKind` messages of each kind (interleaved), and wait until they are in history. */
async function gap(perKind: Record<Kind, number>): Promise<Record<Kind, number[]>> {
  await cut();
  const sent: Record<Kind, number[]> = { bell: [], push: [], entity: [] };
  const most = Math.max(...Object.values(perKind));
  for (let i = 0; i < most; i++) {
    for (const kind of KINDS) if (i < perKind[kind]) sent[kind].push(await publish(kind));
  }
  await witnessed(Object.values(sent).flat());
  return sent;
}

before(async () => {
  const clientAssetsDir = buildClientAssets();
  redis = await startRedisServer();
  const history = { delivery: { historySize: HISTORY_SIZE } };
  a = await startRedisGateway(redis, { ...history, instanceId: 'e2e-a' });
  b = await startRedisGateway(redis, { ...history, instanceId: 'e2e-b' });
  php = rawPublisher(redis);
  proxy = await startTcpProxy(a.port);
  witness = await TestClient.connect(a.url, { cookie: `bookingfrontendsession=${SESSION}` });
  witness.send({ type: 'subscribe', entityType: 'resource', entityId: 42 });
  await witness.ofType('subscription_confirmation');

  browser = await launchChromium();
  const pageUrl = `http://127.0.0.1:${proxy.port}`;
  ({ page, errors } = await sessionPage(browser, pageUrl, SESSION));
  // The client as the source says (whatever dist/ holds); the document itself comes from the gateway.
  await page.route('**/client.js', (route) => route.fulfill({ path: path.join(clientAssetsDir, 'portico-client.min.js'), contentType: 'application/javascript' }));
  await openGatewayPage(page, pageUrl, HOST_PAGE);
  await waitEvents('connected', 1);
  // Positions in every stream before the first cut.
  await settle();
  const positions = await page.evaluate(() => (globalThis as any).client.getStreamPositions());
  assert.deepEqual(Object.keys(positions).sort(), ['broadcast', ENTITY_ROOM, SESSION_ROOM].sort());
}, { timeout: 60_000 });

after(async () => {
  witness?.close();
  await browser?.close();
  await proxy?.close();
  php?.disconnect();
  await a?.close();
  await b?.close();
  await redis?.stop();
});

/**
 * Per kind: when portico:recovered fired the page had been shown what it had before the cut plus
 * the gap's messages, once and in order; after a barrier (one more message per kind), nothing else.
 */
function assertOnceInOrder(atRecovered: Record<Kind, number[]>, earlier: Record<Kind, number[]>, sent: Record<Kind, number[]>, afterBarrier: Record<Kind, number[]>): void {
  for (const kind of KINDS) {
    assert.deepEqual(atRecovered[kind], [...earlier[kind], ...sent[kind]], `${kind}: the gap's messages once, in order, before portico:recovered`);
    assert.equal(afterBarrier[kind].length, atRecovered[kind].length + 1, `${kind}: nothing but the barrier afterwards`);
  }
}

/** Restore the proxy (towards another gateway when given) and return the next portico:recovered detail. */
async function restoreAndWaitRecovered(targetPort?: number): Promise<any> {
  const before = (await events('recovered')).length;
  proxy.restore(targetPort);
  return (await waitEvents('recovered', before + 1))[before];
}

/** Cut, publish `perKind` of each kind, restore: recovered:true, every message once and in order. */
async function recoveredRound(perKind: Record<Kind, number>, targetPort?: number): Promise<void> {
  const earlier = await got();
  const sent = await gap(perKind);
  const detail = await restoreAndWaitRecovered(targetPort);
  assert.deepEqual(detail, { recovered: true, missed: Object.values(perKind).reduce((a, b) => a + b, 0) });
  assertOnceInOrder(await got(), earlier, sent, await settle());
}

test('a cut and restored connection to the same instance: the gap arrives once, in order, and portico:recovered says true', async () => {
  await recoveredRound({ bell: 4, push: 3, entity: 5 });
  assert.equal((await events('resync')).length, 0);
});

test('a reconnect landing on the other instance recovers the same way', async () => {
  await recoveredRound({ bell: 5, push: 5, entity: 2 }, b.port);
  assert.equal(b.gateway.connections.size, 1, 'the page is on instance b now');
  assert.equal(a.gateway.connections.size, 1, 'only the witness is left on a');
  assert.equal((await events('resync')).length, 0);
});

test('more missed than history keeps: recovered false and portico:resync naming the stream', async () => {
  // Redis trims a stream approximately (whole nodes of 100 entries), so go well past the size.
  await gap({ bell: HISTORY_SIZE + 150, push: 1, entity: 1 });
  const detail = await restoreAndWaitRecovered();
  assert.equal(detail.recovered, false);
  const resync = (await waitEvents('resync', 1)).at(-1);
  assert.deepEqual(resync.streams, ['broadcast'], 'only the broadcast stream lost messages');
  // The next cut starts from where the stream is now: recovered again.
  await recoveredRound({ bell: 2, push: 2, entity: 2 });
});

test('history flushed during the gap (FLUSHALL): recovered false and portico:resync', async () => {
  const resyncBefore = (await events('resync')).length;
  await gap({ bell: 2, push: 2, entity: 2 });
  await php.flushall();
  const after = await Promise.all(KINDS.map((k) => publish(k))); // new epochs
  await witnessed(after);
  const detail = await restoreAndWaitRecovered();
  assert.equal(detail.recovered, false);
  const resync = (await waitEvents('resync', resyncBefore + 1)).at(-1);
  assert.deepEqual([...resync.streams].sort(), ['broadcast', ENTITY_ROOM, SESSION_ROOM].sort());
  // Live traffic goes on in the new epochs, and a later cut recovers from them.
  await settle();
  await recoveredRound({ bell: 1, push: 1, entity: 1 });
  assert.deepEqual(errors.filter((e) => !e.includes('WebSocket connection to')), [], 'only the expected failed-connection errors while cut');
});

test('a room the page never got a message in before the cut is recovered too (its position came with the subscription)', async () => {
  witness.send({ type: 'subscribe', entityType: 'resource', entityId: 43 });
  await witness.ofType('subscription_confirmation');
  await page.evaluate(() => (globalThis as any).client.subscribe('resource', 43));
  await page.waitForFunction((room) => room in (globalThis as any).client.getStreamPositions(), FRESH_ROOM, WAIT);
  await cut();
  const sent = [await publish('fresh'), await publish('fresh'), await publish('fresh')];
  await witnessed(sent);
  assert.deepEqual(await restoreAndWaitRecovered(), { recovered: true, missed: 3 });
  assert.deepEqual(await page.evaluate(() => (globalThis as any).__got.fresh), sent);
});

test('after updateSession() to another session, what that session missed during a cut is recovered', async () => {
  const switchedWitness = await TestClient.connect(a.url, { cookie: `bookingfrontendsession=${SWITCHED_SESSION}` });
  try {
    await page.evaluate((id) => (globalThis as any).client.updateSession(id), SWITCHED_SESSION);
    const room = sessionRoomId(SWITCHED_SESSION);
    await page.waitForFunction((r) => r in (globalThis as any).client.getStreamPositions(), room, WAIT);
    await cut();
    const sent = [await publish('switched'), await publish('switched')];
    await waitFor(() => switchedWitness.count((m) => sent.includes(m.data?.seq) && m.stream_position) === 2, 'the switched session to get both');
    assert.deepEqual(await restoreAndWaitRecovered(), { recovered: true, missed: 2 }, 'the old session room is not asked for, the new one is');
    assert.deepEqual(await page.evaluate(() => (globalThis as any).__got.switched), sent);
  } finally {
    switchedWitness.close();
  }
});
